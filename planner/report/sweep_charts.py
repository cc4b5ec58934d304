"""The charts of the sweep and rollout pages, in the county's language."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from planner.i18n import N_, Lang
from planner.report.figures import figure_png
from planner.report.fonts import figure_style
from planner.report.sections import budget_label

#: Config fields a sweep often varies -> their names on the page.
FIELD_NAMES = {
    "stations.budget": N_("Station budget (CNY)"),
    "demand.ev_adoption": N_("EV adoption"),
    "stations.max_stations": N_("Most stations"),
    "stations.cutoff_min": N_("Drive-time limit (min)"),
    "stations.charger_kw": N_("Power per charger (kW)"),
    "stations.min_coverage_share": N_("Coverage target"),
}

#: Statuses of a scenario or year without a plan (nothing to draw).
_NO_PLAN = ("failed", "not_run")


def field_name(field: str, lang: Lang, rows: Iterable[dict[str, Any]] = ()) -> str:
    """A varied field as the page names it; the budget as the runs' reports name it (with
    repair.mode 'joint' it pays for the repair points too)."""
    if field == "stations.budget" and any(r.get("repair_mode") == "joint" for r in rows):
        return budget_label({"repair_mode": "joint"}, lang=lang)
    return lang(FIELD_NAMES[field]) if field in FIELD_NAMES else field


def value_text(v: Any) -> str:
    """A varied field's value: large numbers with thousands separators."""
    if isinstance(v, float | int) and not isinstance(v, bool):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"
    return "" if v is None else str(v)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def axis_positions(values: list[Any]) -> tuple[dict[Any, float], list[float], list[str]]:
    """Where each value of a varied field goes on the x axis: at itself when every value
    is a number, else one step apart in the order given (text such as ``joint``/``after``).
    Returns the positions by value, and the ticks with their labels."""
    distinct = list(dict.fromkeys(values))
    if all(_is_number(v) for v in distinct):
        at = {v: float(v) for v in distinct}
    else:
        at = {v: float(k) for k, v in enumerate(distinct)}
    ticks = sorted(set(at.values()))
    by_pos = {p: v for v, p in at.items()}
    return at, ticks, [value_text(by_pos[t]) for t in ticks]


def proven(row: dict[str, Any]) -> bool:
    """Whether a scenario's or year's plan is proven within its gap (status optimal)."""
    return row.get("status") == "optimal"


def sweep_chart(rows: list[dict[str, Any]], fields: list[str], *, lang: Lang) -> bytes:
    """PNG: sessions covered and capex per covered EV against the first varied field, a line
    per value of the second. A plan not proven optimal (a limit stopped it) is drawn with
    a hollow marker; a scenario without a plan is an x on the axis; the legend says so."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    at, ticks, labels = axis_positions([r.get(fields[0]) for r in rows])
    groups: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("status") not in _NO_PLAN:
            groups.setdefault(r.get(fields[1]) if len(fields) > 1 else None, []).append(r)
    lost = [at[r.get(fields[0])] for r in rows if r.get("status") in _NO_PLAN]
    with figure_style():
        fig = Figure(figsize=(11, 4), layout="constrained")
        a1, a2 = fig.subplots(1, 2)
        for key, items in groups.items():
            label = (
                None if key is None else f"{field_name(fields[1], lang, rows)} = {value_text(key)}"
            )
            xs = [at[r[fields[0]]] for r in items]
            for ax, ys, mark in (
                (a1, [100 * r["demand_covered_share"] for r in items], "o"),
                (a2, [r["capex_per_covered_ev"] or 0 for r in items], "s"),
            ):
                (line,) = ax.plot(xs, ys, "-", label=label)
                for x, y, r in zip(xs, ys, items, strict=True):
                    face = line.get_color() if proven(r) else "white"
                    ax.plot([x], [y], mark, color=line.get_color(), mfc=face, mew=1.5)
        for ax in (a1, a2):
            if lost:
                ax.plot(lost, [0] * len(lost), "x", color="#c0392b", ms=9, mew=2, clip_on=False)
            ax.set_xlabel(field_name(fields[0], lang, rows))
            ax.grid(alpha=0.3)
            ax.set_xticks(ticks, labels)  # the values solved
            ax.ticklabel_format(axis="y", useOffset=False, style="plain")
            ax.set_ylim(bottom=0)
        a1.set_ylabel(lang("sessions covered (%)"))
        a2.set_ylabel(lang("capex per covered EV (CNY)"))
        key_lines = _status_key(rows, lang=lang, line=Line2D)
        handles = [*a1.get_legend_handles_labels()[0], *key_lines] if len(groups) > 1 else key_lines
        if handles:
            a1.legend(handles=handles, fontsize=8)
        return figure_png(fig, dpi=100)  # drawn in the style: its fonts have the glyphs


def _status_key(rows: list[dict[str, Any]], *, lang: Lang, line: Any) -> list[Any]:
    """Legend entries for the hollow and the x markers, when the chart has any."""
    out = []
    if any(r.get("status") not in (*_NO_PLAN, "optimal") for r in rows):
        text = lang("hollow: not proven optimal (a limit stopped the solve)")
        out.append(line([], [], ls="", marker="o", color="grey", mfc="white", mew=1.5, label=text))
    if any(r.get("status") in _NO_PLAN for r in rows):
        text = lang("x: no plan (failed or not run)")
        out.append(line([], [], ls="", marker="x", color="#c0392b", mew=2, label=text))
    return out


def rollout_chart(years: list[dict[str, Any]], *, lang: Lang) -> bytes:
    """PNG: stations open (bars) and sessions covered (line) per year planned; a year not
    proven optimal has a hatched bar and a hollow marker, as the legend says."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import MaxNLocator

    ok = [y for y in years if y.get("status") not in _NO_PLAN]
    with figure_style():
        fig = Figure(figsize=(8, 4), layout="constrained")
        a1 = fig.add_subplot()
        xs = [str(y["year"]) for y in ok]
        bars = a1.bar(xs, [y["stations_open"] for y in ok], color="#2e86de")
        for bar, y in zip(bars, ok, strict=True):
            if not proven(y):
                bar.set_hatch("//")
                bar.set_alpha(0.6)
        a1.set_ylabel(lang("stations open"))
        a1.yaxis.set_major_locator(MaxNLocator(integer=True))  # whole stations
        a2 = a1.twinx()
        shares = [100 * y["demand_covered_share"] for y in ok]
        a2.plot(xs, shares, "-", color="#c0392b")
        for x, v, y in zip(xs, shares, ok, strict=True):
            a2.plot([x], [v], "o", color="#c0392b", mfc="#c0392b" if proven(y) else "white")
        a2.set_ylabel(lang("sessions covered (%)"))
        a2.set_ylim(0, 100)
        key = _status_key(years, lang=lang, line=Line2D)
        if key:
            a1.legend(handles=key, fontsize=8, loc="lower right")
        return figure_png(fig, dpi=100)
