"""The plan of a ``site`` run at a glance, in the run's language (the CLI's summary table)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from planner.i18n import Lang, translator
from planner.report.assumptions import pass_name, status_text
from planner.report.sections import plan_warnings


def _num(x: float | None, fmt: str, lang: Lang) -> str:
    return lang("n/a") if x is None else format(x, fmt)


def _pct(x: float | None, lang: Lang) -> str:
    return lang("no bound (stopped first)") if x is None else f"{x:.2%}"


def plan_rows(summary: dict[str, Any], *, lang: Lang) -> list[tuple[str, str]]:
    """Label and text of the plan's figures."""
    s = summary
    share, total = f"{s['demand_covered_share']:.1%}", f"{s['sessions_day']:,.0f}"
    capex = f"{s['capex_total']:,.0f}"
    return [
        (
            lang("stations / chargers"),
            f"{s['stations']} / {s['chargers']} ({s['charger_kw_total']:,.0f} kW)",
        ),
        (lang("repair points"), str(s["repair_points"])),
        (
            lang("sessions/day covered"),
            lang("{share} of {total}", share=share, total=total),
        ),
        (
            lang("townships with any station"),
            lang("{n} of {total}", n=s["townships_with_station"], total=s["townships_total"]),
        ),
        (
            lang("mean drive time"),
            lang(
                "{assigned} min to the assigned station, {nearest} min to the nearest",
                assigned=_num(s["mean_travel_min"], ".1f", lang),
                nearest=_num(s["mean_nearest_min"], ".1f", lang),
            ),
        ),
        (lang("capex"), lang("{amount} CNY", amount=capex)),
        (
            lang("solver"),
            lang(
                "{solver} {status} (worst gap of {n} passes: {gap})",
                solver=str(s["solver"]).replace("highs", "HiGHS").replace("cbc", "CBC"),
                status=status_text(str(s["status"]), lang=lang),
                n=len(s["solves"]),
                gap=_pct(s["gap"], lang),
            ),
        ),
        (lang("passes"), passes_line(s, lang=lang)),
        *_tour_rows(s, lang=lang),
    ]


def _tour_rows(summary: dict[str, Any], *, lang: Lang) -> list[tuple[str, str]]:
    """The repair vans' week, when the run planned it."""
    tours = summary.get("tours")
    if not tours:
        return []
    km = f"{tours['km_week']:,.0f}"
    text = lang(
        "{vans} vans: {served} of {asked} visits, {km} km a week",
        vans=tours["vans_total"],
        served=tours["visits_served"],
        asked=tours["visits_asked"],
        km=km,
    )
    return [(lang("repair tours"), text)]


def passes_line(summary: dict[str, Any], *, lang: Lang) -> str:
    """``coverage optimal 0.02% · capex optimal 0.48% · ...`` from a summary."""
    done = [
        f"{pass_name(p.get('pass') or p['model'], lang=lang)} "
        f"{status_text(p['status'], lang=lang)} {_pct(p['gap'], lang)}"
        for p in summary["solves"]
    ]
    skipped = [
        lang("{name} skipped (solver.drive_time_max_pairs)", name=pass_name(name, lang=lang))
        for name in summary["skipped_passes"]
    ]
    return " · ".join(done + skipped)


def safety_net_text(summary: dict[str, Any], *, lang: Lang) -> str:
    """The warning of a run that a time limit stopped (a solver pass, the vans' tours)."""
    return " ".join(plan_warnings(summary, lang=lang))


def plan_table(
    summary: dict[str, Any],
    *,
    seconds: float,
    out_dir: Path,
    home: Path,
    report: bool,
) -> Table:
    """The summary table of a ``site`` run, in ``summary["language"]`` (default English)."""
    lang = translator(summary.get("language", "en"))
    table = Table(title=lang("{county}: plan", county=summary["county"]), show_header=False)
    table.add_column()
    table.add_column(overflow="fold")  # paths are wrapped, never cut short
    rows = plan_rows(summary, lang=lang)
    rows += [
        (lang("time"), f"{seconds:.1f} {lang.unit('s')}"),
        (lang("outputs"), str(out_dir)),
        (
            lang("latest"),
            lang(
                "{latest} (earlier runs kept in {runs})",
                latest=home / "latest",
                runs=home / "runs",
            ),
        ),
    ]
    if summary["safety_net"]:
        rows.insert(0, (lang("WARNING"), safety_net_text(summary, lang=lang)))
    if report:
        rows.append((lang("report"), str(out_dir / "report.html")))
    for k, v in rows:
        table.add_row(k, v)
    return table
