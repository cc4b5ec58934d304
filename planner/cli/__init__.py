"""The ``planner`` command.

Exit codes: 0 done; 2 bad input or config; 3 model infeasible; 1 anything unexpected.
Commands that run several plans (sweep, rollout, batch) exit 0 when all are done, 4 when
some failed (listed on stderr), and the single-run code when all failed the same way.
Errors print one line on stderr, without a traceback (``--debug`` shows it).
SIGINT (Ctrl-C) and SIGTERM stop any command within about a second, even mid-solve: the
temporary folders and the solver's process are removed, and the exit code is 130 or 143.

This package holds the group, its error handling and what the commands share; the
commands are in :mod:`planner.cli.county` (site, export, clean) and
:mod:`planner.cli.multi` (demo, batch, sweep, rollout), added to the group at the end.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

from planner import __version__
from planner.errors import Interrupted, PlannerError, disk_full, multi_run_exit_code
from planner.signals import check_stop, handle_signals, remove_stale_temp

#: Width of the CLI's tables when its output is not a terminal.
PIPE_WIDTH = 120

# user text (paths, names, --year values) goes into these messages: never read it as
# Rich markup ("[/x]") or emoji codes (":abc:"); styles are given as Text objects
_err = Console(stderr=True, markup=False, emoji=False)
# a table piped into a log or a batch's output keeps its columns whole (Rich would cut it
# to 80 characters); a terminal keeps its own width
_out = Console(markup=False, emoji=False, width=None if sys.stdout.isatty() else PIPE_WIDTH)

_F = TypeVar("_F", bound=Callable[..., Any])


def _styled(label: str, text: str) -> Text:
    """``label`` in bold red, then ``text`` exactly as given."""
    return Text.assemble((label, "bold red"), " ", text)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = RichHandler(console=_err, show_path=False, show_time=False, markup=False)
    logging.basicConfig(level=level, handlers=[handler], format="%(message)s", force=True)
    for noisy in ("pyogrio", "distributed", "tornado", "bokeh"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _demo_dir() -> Path:
    """Where ``site --demo`` finds the demo: data/raw/demo, or $PLANNER_DEMO_DIR."""
    from planner.pipeline import project_root

    override = os.environ.get("PLANNER_DEMO_DIR")
    return Path(override) if override else project_root() / "data" / "raw" / "demo"


#: Commands that write several runs: a signal keeps the runs they finished before it.
_MULTI_RUN = ("sweep", "rollout", "batch")


def _interrupted(ctx: click.Context, err: Interrupted) -> None:
    """One line on what a signal left, then exit 130 (SIGINT) or 143 (SIGTERM)."""
    if ctx.invoked_subcommand in _MULTI_RUN:
        left = "the run in progress was not written; finished runs and previous outputs are intact"
    else:
        left = "nothing was written; the previous outputs are intact"
    _err.print(_styled("interrupted", f"({err.signame}): {left}"), highlight=False, soft_wrap=True)
    ctx.exit(err.exit_code)


def _full(ctx: click.Context, err: Exception) -> None:
    """One line on a full disk (exit 2): what was kept, and what to do."""
    where = getattr(err, "filename", None)
    if ctx.invoked_subcommand in _MULTI_RUN:
        left = "the run in progress was not written; finished runs and previous outputs are intact"
    else:
        left = "nothing was written; the previous outputs are intact"
    text = f"the disk is full{f' writing {where}' if where else ''}: {left}; free some space "
    _err.print(_styled("error:", text + "or choose another --out"), highlight=False, soft_wrap=True)
    ctx.exit(2)


class _PlannerGroup(click.Group):
    """Turns planner errors and signals into one line and an exit code."""

    debug = False

    def invoke(self, ctx: click.Context) -> object:
        try:
            with handle_signals():
                try:
                    return super().invoke(ctx)
                except Exception:
                    check_stop()  # an error the signal caused (e.g. a worker it ended)
                    raise
        except Interrupted as err:
            _interrupted(ctx, err)
        except PlannerError as err:
            if _PlannerGroup.debug:
                raise
            _err.print(_styled("error:", _line(err)), highlight=False, soft_wrap=True)
            ctx.exit(err.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except KeyboardInterrupt:
            _err.print("interrupted")
            ctx.exit(130)
        except Exception as err:  # anything unexpected: exit 1, still one line
            if _PlannerGroup.debug:
                raise
            if disk_full(err):
                _full(ctx, err)
            _err.print(
                _styled(
                    "unexpected error:",
                    f"{type(err).__name__}: {_line(err)} (run with --debug for the traceback)",
                ),
                highlight=False,
                soft_wrap=True,
            )
            ctx.exit(1)
        return None


@click.group(cls=_PlannerGroup)
@click.version_option(__version__, prog_name="planner")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.option("--debug", is_flag=True, help="Show tracebacks of errors.")
def main(verbose: int, debug: bool) -> None:
    """Site public EV charging stations and repair points for a rural county."""
    _PlannerGroup.debug = debug
    _setup_logging(verbose)
    remove_stale_temp()  # what runs killed outright (SIGKILL) left in the temporary folder


# -- options several commands share -------------------------------------------------


def _out_option(help_text: str) -> Callable[[_F], _F]:
    """``--out`` (to ``out_dir``): the folder a command writes, default None."""
    return click.option(
        "--out", "out_dir", type=click.Path(path_type=Path), default=None, help=help_text
    )


def _config_option(*, required: bool, help_text: str | None = None) -> Callable[[_F], _F]:
    """``--config`` (to ``config_path``): a county config."""
    path = click.Path(path_type=Path)
    if required:  # no default: with one, click would name another missing option first
        return click.option("--config", "config_path", type=path, required=True, help=help_text)
    return click.option("--config", "config_path", type=path, default=None, help=help_text)


def _set_option(help_text: str) -> Callable[[_F], _F]:
    """``--set`` (to ``overrides``, repeatable): config overrides."""
    return click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=help_text)


# -- exit codes of the commands that run several plans ----------------------------


def _exit_multi(done: int, failed: list[tuple[str, str, int]]) -> None:
    """List the failed runs on stderr and exit by the multi-run rule.

    Parameters
    ----------
    done
        Runs that finished.
    failed
        ``(run, error, exit code)`` of each failed run.
    """
    for name, error, _ in failed:
        _err.print(f"failed: {name}: {error}", highlight=False, soft_wrap=True)
    code = multi_run_exit_code(done, [c for _, _, c in failed])
    if code:
        sys.exit(code)


def _exit_rows(rows: list[dict], name_key: str) -> None:
    """:func:`_exit_multi` for the rows of a sweep or rollout."""
    failed = [r for r in rows if r.get("status") == "failed"]
    _exit_multi(
        len(rows) - len(failed),
        [(str(r[name_key]), r.get("error", ""), r.get("exit_code", 1)) for r in failed],
    )


# -- small formatting helpers ------------------------------------------------------


def _line(err: BaseException) -> str:
    """The error as one line of text."""
    return " ".join(str(err).split())


def _num(x: float | None, fmt: str) -> str:
    return "n/a" if x is None else format(x, fmt)


def _pct(x: float | None) -> str:
    return "unknown" if x is None else f"{x:.2%}"


# the commands, by job: one county's runs, and the commands that make or run several
from planner.cli.county import clean, export_cmd, site  # noqa: E402
from planner.cli.multi import batch, demo, rollout, sweep  # noqa: E402
from planner.cli.setup import init, schema  # noqa: E402

for _command in (site, export_cmd, clean, demo, batch, sweep, rollout, init, schema):
    main.add_command(_command)


def run() -> NoReturn:
    """The ``planner`` program (its script and ``python -m planner``): :func:`main`, then
    an exit that does not tear the interpreter down.

    The exit handlers run (logs flushed, temporary folders and child processes removed)
    and other threads finish, but the ~2,000 imported modules and the run's objects are
    not freed one by one: that took about a second after every command, four or five on a
    loaded machine, so that Ctrl-C seemed not to stop the run.
    """
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
    _exit_now(code)


def _exit_now(code: int) -> NoReturn:
    # as Python's own exit does: idle pool workers are woken, other threads joined
    threading._shutdown()  # type: ignore[attr-defined]
    _flush()
    atexit._run_exitfuncs()
    _flush()  # what the exit handlers said
    os._exit(code)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()


__all__ = [
    "batch",
    "clean",
    "demo",
    "export_cmd",
    "init",
    "main",
    "rollout",
    "run",
    "schema",
    "site",
    "sweep",
]
