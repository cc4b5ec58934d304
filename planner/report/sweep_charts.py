"""The charts of the sweep and rollout pages, in the county's language."""

from __future__ import annotations

from typing import Any

from planner.i18n import N_, Lang
from planner.report.figures import figure_png
from planner.report.static_map import figure_style

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


def field_name(field: str, lang: Lang) -> str:
    """A varied field as the page names it."""
    return lang(FIELD_NAMES[field]) if field in FIELD_NAMES else field


def value_text(v: Any) -> str:
    """A varied field's value: large numbers with thousands separators."""
    if isinstance(v, float | int) and not isinstance(v, bool):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:g}"
    return "" if v is None else str(v)


def sweep_chart(rows: list[dict[str, Any]], fields: list[str], *, lang: Lang) -> bytes:
    """PNG: sessions covered and capex per covered EV against the first varied field, a line
    per value of the second."""
    from matplotlib.figure import Figure

    groups: dict[Any, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("status") not in _NO_PLAN:
            groups.setdefault(r.get(fields[1]) if len(fields) > 1 else None, []).append(r)
    with figure_style():
        fig = Figure(figsize=(11, 4), layout="constrained")
        a1, a2 = fig.subplots(1, 2)
        for key, items in groups.items():
            xs = [float(r[fields[0]]) for r in items]
            label = None if key is None else f"{field_name(fields[1], lang)} = {value_text(key)}"
            a1.plot(xs, [100 * r["demand_covered_share"] for r in items], "o-", label=label)
            a2.plot(xs, [r["capex_per_covered_ev"] or 0 for r in items], "s-", label=label)
        ticks = sorted({float(r[fields[0]]) for items in groups.values() for r in items})
        for ax in (a1, a2):
            ax.set_xlabel(field_name(fields[0], lang))
            ax.grid(alpha=0.3)
            ax.set_xticks(ticks, [value_text(v) for v in ticks])  # the values solved
            ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        a1.set_ylabel(lang("sessions covered (%)"))
        a2.set_ylabel(lang("capex per covered EV (CNY)"))
        if len(groups) > 1:
            a1.legend(fontsize=8)
        return figure_png(fig, dpi=100)  # drawn in the style: its fonts have the glyphs


def rollout_chart(years: list[dict[str, Any]], *, lang: Lang) -> bytes:
    """PNG: stations open (bars) and sessions covered (line) per year planned."""
    from matplotlib.figure import Figure

    ok = [y for y in years if y.get("status") not in _NO_PLAN]
    with figure_style():
        fig = Figure(figsize=(8, 4), layout="constrained")
        a1 = fig.add_subplot()
        xs = [str(y["year"]) for y in ok]
        a1.bar(xs, [y["stations_open"] for y in ok], color="#2e86de")
        a1.set_ylabel(lang("stations open"))
        a2 = a1.twinx()
        a2.plot(xs, [100 * y["demand_covered_share"] for y in ok], "o-", color="#c0392b")
        a2.set_ylabel(lang("sessions covered (%)"))
        a2.set_ylim(0, 100)
        return figure_png(fig, dpi=100)
