"""The progress of a command on stderr: one live line in a terminal, else timestamped lines.

In a terminal the line shows where the run is, e.g.
``[5/6] optimize · pass 2/3 capex · 12.3 s · incumbent 1,234 · bound 1,250 · gap 1.30%``
(with ``scenario 3/8 budget=8e+06 ·`` in front in a sweep), and a sweep's or rollout's
finished runs stay above it. Elsewhere (a CI log, a batch file's output) each line has
the time in front and says what ended or moved on: a stage done, a solver pass started,
every :data:`PLAIN_EVERY_S` while it runs, and its end, a run of a sweep started and
ended. Nothing is written for a stage before it ends, so a run that fails in its first
stage writes only its error.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.status import Status
from rich.text import Text

from planner.pipeline import STAGES
from planner.progress import SolverEvent, StepEvent, reporting

#: Seconds between two lines of a running solver pass when stderr is not a terminal.
PLAIN_EVERY_S = 10.0


def _figure(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.4g}"


def solver_figures(event: SolverEvent) -> list[str]:
    """``12.3 s``, ``incumbent 1,234``, ``bound 1,250``, ``gap 1.30%`` (those known)."""
    parts = [f"{event.elapsed:.1f} s"]
    if event.incumbent is not None:
        parts.append(f"incumbent {_figure(event.incumbent)}")
    if event.bound is not None:
        parts.append(f"bound {_figure(event.bound)}")
    if event.gap is not None:  # no incumbent worth the name yet: an "infinite" gap
        parts.append(f"gap {event.gap:.2%}" if event.gap < 10 else "gap >999%")
    return parts


def _step_name(event: StepEvent) -> str:
    return f"{event.kind} {event.index}/{event.total} {event.label}"


def _step_end(event: StepEvent) -> str:
    """``scenario 3/8 budget=8e+06: done in 12.3 s (optimal)``, or ``failed after``."""
    seconds = event.seconds or 0.0
    if event.status == "failed":
        return f"{_step_name(event)}: failed after {seconds:.1f} s"
    return f"{_step_name(event)}: done in {seconds:.1f} s ({event.status})"


class _Display:
    """What both displays keep: the run of a sweep and the stage under way."""

    def __init__(self) -> None:
        self.step_name = ""
        self.stage_name = ""
        self.stage_t0 = time.perf_counter()

    def stage_text(self) -> str:
        k = STAGES.index(self.stage_name) + 1 if self.stage_name in STAGES else 0
        return f"[{k}/{len(STAGES)}] {self.stage_name}" if k else self.stage_name

    def stage(self, name: str) -> None:
        self.stage_name = name
        self.stage_t0 = time.perf_counter()

    def solver(self, event: SolverEvent) -> None:
        if self.stage_name != "optimize":  # a sweep's runs report no stage after prepare
            self.stage("optimize")

    def step(self, event: StepEvent) -> None:
        self.step_name = _step_name(event) if event.seconds is None else ""
        self.stage_name = ""

    def finish(self) -> None:
        """The command's run ended well."""


class LiveLine(_Display):
    """One line in the terminal, rewritten as the run moves on (a rich status)."""

    def __init__(self, status: Status) -> None:
        super().__init__()
        self.status = status

    def _show(self, *parts: str) -> None:
        head = [self.step_name] if self.step_name else []
        line = " · ".join([*head, *parts])
        self.status.update(Text(line, no_wrap=True, overflow="ellipsis"))

    def stage(self, name: str) -> None:
        super().stage(name)
        self._show(f"{self.stage_text()} ...")

    def solver(self, event: SolverEvent) -> None:
        super().solver(event)
        tail = [event.status] if event.phase == "end" and event.status else []
        self._show(self.stage_text(), event.label, *solver_figures(event), *tail)

    def step(self, event: StepEvent) -> None:
        super().step(event)
        if event.seconds is None:
            self._show("starting ...")
        else:
            self.status.console.print(_step_end(event), highlight=False, markup=False)


class PlainLines(_Display):
    """Timestamped lines, for stderr that is not a terminal."""

    def __init__(self, console: Console, *, every_s: float = PLAIN_EVERY_S) -> None:
        super().__init__()
        self.console = console
        self.every_s = every_s
        self._printed: dict[str, float] = {}  # a pass's elapsed seconds at its last line

    def _line(self, text: str) -> None:
        head = f"{self.step_name}: " if self.step_name else ""
        now = dt.datetime.now().isoformat(timespec="seconds")
        self.console.print(f"{now} {head}{text}", highlight=False, markup=False, soft_wrap=True)

    def _stage_done(self) -> None:
        if self.stage_name:
            seconds = time.perf_counter() - self.stage_t0
            self._line(f"{self.stage_text()} done in {seconds:.1f} s")

    def stage(self, name: str) -> None:
        self._stage_done()
        super().stage(name)

    def solver(self, event: SolverEvent) -> None:
        super().solver(event)
        where = f"{self.stage_name} {event.label}"
        if event.phase == "start":
            self._printed[event.label] = 0.0
            self._line(f"{where}: started")
        elif event.phase == "update":
            if event.elapsed - self._printed.get(event.label, 0.0) >= self.every_s:
                self._printed[event.label] = event.elapsed
                self._line(f"{where}: {', '.join(solver_figures(event))}")
        else:
            figures = solver_figures(event)
            head = f"{event.status} in {figures[0]}"
            self._line(f"{where}: {', '.join([head, *figures[1:]])}")

    def step(self, event: StepEvent) -> None:
        super().step(event)
        self._line("started" if event.seconds is None else _step_end(event))

    def finish(self) -> None:
        self._stage_done()
        self.stage_name = ""


@contextmanager
def progress_display(console: Console) -> Iterator[_Display]:
    """The display for ``console`` (a live line when it is a terminal), as the reporter."""
    if console.is_terminal:
        with console.status("starting ...") as status:
            live = LiveLine(status)
            with reporting(live):
                yield live
    else:
        plain = PlainLines(console)
        with reporting(plain):
            yield plain
