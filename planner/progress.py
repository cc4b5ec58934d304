"""Progress of a command: the pipeline's stages, the solver's passes, a sweep's runs.

A display (the command line's, :mod:`planner.cli.display`) is a :class:`Progress`; a
command makes it the reporter for its duration with :func:`reporting`. The pipeline's
stages, the solver backends and the sweep find it through a context variable, so none of
their signatures carry it; without a reporter nothing is measured or sent.

The solver's figures are only read (from HiGHS' interrupt callback, or CBC's log): a
reporter cannot change a solve, and a plan is the same with or without one.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

#: Seconds between two solver updates sent to the reporter (at most 2 a second).
UPDATE_S = 0.5

#: A bound or incumbent at or beyond this is "none yet" (HiGHS: inf, CBC: 1e50).
_NONE_ABOVE = 1e49


@dataclass(frozen=True)
class SolverEvent:
    """A solve started, moved on, or ended.

    ``incumbent`` (the best plan's objective so far) and ``bound`` are in the model's
    sense (a maximisation's bound is above its incumbent); ``gap`` is
    ``|bound - incumbent| / |incumbent|``, None until both are known.
    """

    label: str  # the pass: "pass 2/3 capex", "repair points", ... or the model's name
    phase: Literal["start", "update", "end"]
    elapsed: float  # seconds since the solve started
    incumbent: float | None = None
    bound: float | None = None
    gap: float | None = None
    nodes: int | None = None  # branch-and-bound nodes so far, when the solver says
    status: str | None = None  # at the end: optimal, time_limit, infeasible, ...


@dataclass(frozen=True)
class StepEvent:
    """One run of several (a sweep's scenario, a rollout's year) started or ended."""

    kind: str  # "scenario", "year"
    index: int  # from 1
    total: int
    label: str  # "budget=8e+06", "2026"
    seconds: float | None = None  # None: it starts; else it ended after this long
    status: str | None = None  # at the end: the plan's status, or "failed"


class Progress(Protocol):
    """What receives progress: a display, a log, a test's recorder."""

    def stage(self, name: str) -> None:
        """A pipeline stage (:data:`planner.pipeline.STAGES`) starts."""

    def solver(self, event: SolverEvent) -> None:
        """A solve started, moved on (at most every :data:`UPDATE_S`) or ended."""

    def step(self, event: StepEvent) -> None:
        """One of several runs started or ended."""


_reporter: ContextVar[Progress | None] = ContextVar("planner_progress", default=None)
_labels: ContextVar[tuple[str, ...]] = ContextVar("planner_solver_label", default=())


@contextmanager
def reporting(progress: Progress | None) -> Iterator[Progress | None]:
    """Send progress to ``progress`` inside the block (None: to nothing)."""
    token = _reporter.set(progress)
    try:
        yield progress
    finally:
        _reporter.reset(token)


def current() -> Progress | None:
    """The reporter of the running command, if any."""
    return _reporter.get()


@contextmanager
def solver_label(text: str) -> Iterator[None]:
    """Name the solves inside the block (nested names are joined: ``pass 1/3 · start``)."""
    token = _labels.set((*_labels.get(), text))
    try:
        yield
    finally:
        _labels.reset(token)


def label_for(model: str) -> str:
    """The name of a solve of ``model`` here: the block's names, else the model's."""
    return " · ".join(_labels.get()) or model


def report_stage(name: str) -> None:
    """Report that the pipeline stage ``name`` starts (an ``on_stage`` for the pipeline)."""
    progress = current()
    if progress is not None:
        progress.stage(name)


@contextmanager
def stage_reported(name: str) -> Iterator[None]:
    """A ``stage`` factory for :func:`planner.pipeline.prepare`: reports each stage."""
    report_stage(name)
    yield


class Step:
    """A run of several: reports its start now and its end on :meth:`done`."""

    def __init__(self, kind: str, index: int, total: int, label: str) -> None:
        self._event = StepEvent(kind, index, total, label)
        self._t0 = time.perf_counter()
        self._progress = current()
        if self._progress is not None:
            self._progress.step(self._event)

    def done(self, status: str) -> None:
        """The run ended with ``status`` (the plan's, or ``failed``)."""
        if self._progress is not None:
            seconds = time.perf_counter() - self._t0
            self._progress.step(replace(self._event, seconds=seconds, status=status))


def relative_gap(incumbent: float, bound: float) -> float:
    """``|bound - incumbent| / |incumbent|``, 0 below 1e-12."""
    gap = abs(bound - incumbent) / max(abs(incumbent), 1e-9)
    return 0.0 if gap < 1e-12 else gap


@dataclass
class SolverWatch:
    """A solve's figures turned into :class:`SolverEvent` s for a reporter.

    The backend hands :meth:`seen` its raw figures (in the minimisation it solves:
    ``sense`` is -1 for a maximisation, and the model's constant is left out); the thread
    that waits for the solver calls :meth:`poll`, which sends an update at most every
    ``interval`` seconds (None: :data:`UPDATE_S`). :meth:`seen` only stores a tuple, so
    the solver's own thread may call it.
    """

    progress: Progress
    label: str
    sense: float = 1.0
    constant: float = 0.0
    interval: float | None = None
    _t0: float = field(default=0.0, init=False)
    _last: float = field(default=0.0, init=False)
    _raw: tuple[float, float, int | None] = field(default=(math.inf, -math.inf, None), init=False)

    def start(self) -> None:
        """The solve starts now."""
        self._t0 = self._last = time.perf_counter()
        self.progress.solver(SolverEvent(self.label, "start", 0.0))

    def seen(self, primal: float, dual: float, nodes: int | None = None) -> None:
        """The solver's incumbent and bound (its own sense) and nodes, as it reports them."""
        self._raw = (primal, dual, nodes)

    def poll(self) -> None:
        """Send an update when ``interval`` has passed since the last."""
        now = time.perf_counter()
        if now - self._last < (UPDATE_S if self.interval is None else self.interval):
            return
        self._last = now
        primal, dual, nodes = self._raw
        incumbent, bound = self._model(primal), self._model(dual)
        gap = None if incumbent is None or bound is None else relative_gap(incumbent, bound)
        event = SolverEvent(self.label, "update", now - self._t0, incumbent, bound, gap, nodes)
        self.progress.solver(event)

    def end(
        self, status: str, objective: float | None, bound: float | None, gap: float | None
    ) -> None:
        """The solve ended (figures in the model's sense, as reported)."""
        elapsed = time.perf_counter() - self._t0
        nodes = self._raw[2]
        self.progress.solver(
            SolverEvent(self.label, "end", elapsed, objective, bound, gap, nodes, status)
        )

    def _model(self, raw: float) -> float | None:
        if not math.isfinite(raw) or abs(raw) >= _NONE_ABOVE:
            return None
        return self.sense * raw + self.constant


@dataclass
class Recorder:
    """A :class:`Progress` that keeps every event (for tests and notebooks)."""

    stages: list[str] = field(default_factory=list)
    solves: list[SolverEvent] = field(default_factory=list)
    steps: list[StepEvent] = field(default_factory=list)

    def stage(self, name: str) -> None:
        self.stages.append(name)

    def solver(self, event: SolverEvent) -> None:
        self.solves.append(event)

    def step(self, event: StepEvent) -> None:
        self.steps.append(event)


#: The county (and scenario) whose run this thread is in, named in every log line.
_LOG_TAG: ContextVar[str | None] = ContextVar("planner_log_tag", default=None)


@contextmanager
def log_tag(tag: str) -> Iterator[None]:
    """Begin every log message within the block with ``tag: `` (a batch's county, so that
    its workers' warnings say which county they are about)."""
    _install_tagging()
    token = _LOG_TAG.set(tag)
    try:
        yield
    finally:
        _LOG_TAG.reset(token)


def _install_tagging() -> None:
    """Wrap the log record factory once per process (a no-op outside :func:`log_tag`)."""
    old = logging.getLogRecordFactory()
    if getattr(old, "planner_tagging", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = old(*args, **kwargs)
        tag = _LOG_TAG.get()
        if tag is not None:
            record.msg = f"{tag}: {record.msg}"
        return record

    factory.planner_tagging = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
