"""Charts of report.html: the coverage-vs-budget curve."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from planner.i18n import Lang, translator
from planner.report.fonts import figure_style

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn
    from matplotlib.figure import Figure

#: Keys of one point of ``summary["coverage_curve"]``.
CURVE_KEYS = ("budget", "stations", "chargers", "capex", "covered_share", "status", "gap")


def plot_coverage_curve(
    curve: list[dict[str, Any]], *, size_in: float = 7.0, lang: Lang | None = None
) -> Figure:
    """Share of sessions covered against the budget, one marker per solved budget.

    Parameters
    ----------
    curve
        Points with the keys of :data:`CURVE_KEYS` (``budget`` in CNY; a point without a
        budget is placed at its capex). Points without ``covered_share`` (no feasible
        plan for the budget) are marked on the axis.
    size_in
        Figure width in inches.
    lang
        Language of the title, axes and legend (English when None).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    lang = lang if lang is not None else translator("en")
    solved = sorted(
        (x, float(p["covered_share"]), p)
        for p in curve
        if (x := _x(p)) is not None and isinstance(p.get("covered_share"), int | float)
    )
    failed = sorted(x for p in curve if (x := _x(p)) is not None and p.get("covered_share") is None)
    with figure_style():
        fig = Figure(figsize=(size_in, size_in * 0.55), layout="constrained")
        ax = fig.add_subplot()
        xs = [x / 1e6 for x, _, _ in solved]
        ys = [100 * y for _, y, _ in solved]
        ax.plot(xs, ys, color="#2e86de", lw=1.8, marker="o", ms=5, label=lang("solved"))
        for x, y, (_, _, p) in zip(xs, ys, solved, strict=True):
            ok = str(p.get("status")) == "optimal"
            ax.annotate(
                f"{p.get('stations', '')}",
                (x, y),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=7,
                color="#1e272e" if ok else "#c0392b",
            )
        if failed:
            ax.plot(
                [x / 1e6 for x in failed], [0] * len(failed), ls="", marker="x", ms=7,
                color="#c0392b", label=lang("no feasible plan"),
            )  # fmt: skip
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xlabel(lang("budget (million CNY)"))
        ax.set_ylabel(lang("sessions covered (%)"))
        ax.set_ylim(0, 105)
        ax.grid(alpha=0.3)
        ax.set_title(lang("Coverage against budget (labels: stations; red: not proven optimal)"))
    return fig


def _x(point: dict[str, Any]) -> float | None:
    for key in ("budget", "capex"):
        value = point.get(key)
        if isinstance(value, int | float) and value == value:
            return float(value)
    return None
