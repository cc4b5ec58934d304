"""The planner's errors: one root, each class also a builtin, each with an exit code."""

from __future__ import annotations

import errno
import signal
from pathlib import Path


class PlannerError(Exception):
    """Root of every error the planner raises on purpose."""

    exit_code = 1


class ConfigError(PlannerError, ValueError):
    """The run config is missing, malformed or inconsistent (exit code 2)."""

    exit_code = 2


class DataError(PlannerError, ValueError):
    """An input file, layer, field or row cannot be used (exit code 2)."""

    exit_code = 2


class NoRoadsError(DataError):
    """The OSM extract holds no drivable road where the county is (exit code 2): the
    wrong extract, or boundaries in the wrong place (a wrong CRS)."""


class InfeasibleError(PlannerError, RuntimeError):
    """The model has no feasible plan; the message lists the causes found (exit code 3)."""

    exit_code = 3


class SolverError(PlannerError, RuntimeError):
    """The solver failed or is unavailable (exit code 1)."""

    exit_code = 1


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and the noun in its number, for messages: ``1 row``, ``3 rows``."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def data_error(
    path: str | Path,
    problem: str,
    *,
    layer: str | None = None,
    field: str | None = None,
    row: int | str | None = None,
    hint: str | None = None,
) -> DataError:
    """Build a :class:`DataError` whose message names the place at fault.

    Parameters
    ----------
    path
        The input file.
    problem
        What is wrong, in a few words.
    layer, field, row
        Where in the file, when known.
    hint
        What the user can do about it.

    Returns
    -------
    DataError
        Not raised: the caller raises it.
    """
    where = [str(path)]
    if layer is not None:
        where.append(f"layer '{layer}'")
    if field is not None:
        where.append(f"field '{field}'")
    if row is not None:
        where.append(f"row {row}")
    msg = f"{', '.join(where)}: {problem}"
    if hint:
        msg += f" ({hint})"
    return DataError(msg)


class AssetError(PlannerError, FileNotFoundError):
    """A file the outputs embed (e.g. Leaflet for map.html) is not installed (exit code 1)."""

    exit_code = 1


class Interrupted(BaseException):
    """SIGINT or SIGTERM stopped the run (exit code 130 or 143: 128 + the signal number).

    A :class:`BaseException`, like :class:`KeyboardInterrupt` but not one: ``except
    Exception`` blocks let it through, and every ``finally`` and cleanup runs on its way
    out. Raised by :func:`planner.signals.handle_signals`' handler.

    Parameters
    ----------
    signum
        The signal received.
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        self.signame = signal.Signals(signum).name
        self.exit_code = 128 + self.signum
        super().__init__(self.signame)


#: Exit code of a multi-run command (sweep, rollout, batch) when some runs failed.
SOME_FAILED = 4


def multi_run_exit_code(done: int, failed_codes: list[int]) -> int:
    """The exit code of a command that runs several plans (sweep, rollout, batch).

    Parameters
    ----------
    done
        Runs that finished (or were already complete).
    failed_codes
        The single-run exit code of each failed run (2 bad input, 3 infeasible,
        1 unexpected).

    Returns
    -------
    int
        0 when none failed; the failed runs' code when every run failed the same way;
        :data:`SOME_FAILED` (4) otherwise.
    """
    if not failed_codes:
        return 0
    if done == 0 and len(set(failed_codes)) == 1:
        return failed_codes[0]
    return SOME_FAILED


def check_input_file(path: str | Path, what: str, *, hint: str | None = None) -> None:
    """Raise a :class:`DataError` unless ``path`` is an existing file.

    Parameters
    ----------
    path
        The input file.
    what
        What the file is, for the message (e.g. ``"OSM file"``).
    hint
        What the user can do (e.g. the config field to check).

    Raises
    ------
    DataError
        ``path`` is a folder ("is a folder, not a file") or does not exist.
    """
    path = Path(path)
    if path.is_dir():
        raise data_error(path, "is a folder, not a file", hint=hint or f"give the {what}'s path")
    if not path.is_file():
        raise data_error(path, f"{what} not found", hint=hint)


#: How libraries that do not raise :class:`OSError` (GDAL, SQLite) say the disk is full.
_DISK_FULL_TEXT = ("no space left on device", "disk is full", "disk quota exceeded")


def disk_full(err: BaseException) -> bool:
    """Whether ``err``, or an exception it was raised from, is a full disk or quota.

    Parameters
    ----------
    err
        Any exception (a GDAL or SQLite error included).

    Returns
    -------
    bool
        True for ``ENOSPC`` / ``EDQUOT`` or a library's message saying so.
    """
    seen: BaseException | None = err
    for _ in range(10):  # the chain of causes, however it was raised
        if seen is None:
            return False
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if any(text in str(seen).lower() for text in _DISK_FULL_TEXT):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
