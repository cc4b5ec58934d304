"""What a plan rests on: its parameters, data sources and solver passes, as tables.

The report and the workbook both print these; officials sign a plan knowing every
assumption (with unit and whether the county set it or the planner's default applied),
where each input came from under which licence, and how each solver pass ended.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from planner.config import Config
from planner.i18n import N_, Lang, translator

#: The OpenStreetMap credit every output built on OSM data carries (ODbL 1.0, section 4.3).
OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0 (openstreetmap.org/copyright)"

#: (section, field, label, unit, scale): the parameters of a plan, in the order printed.
#: ``scale`` turns the stored value into the printed unit (shares to per cent).
PARAMETERS: tuple[tuple[str, str, str, str, float], ...] = (
    ("demand", "vehicles_per_1000", N_("Cars per 1000 people"), N_("vehicles"), 1),
    ("demand", "ev_adoption", N_("EV share of cars"), "%", 100),
    ("demand", "sessions_per_ev_per_day", N_("Public charging sessions per EV"), "sessions/day", 1),
    ("demand", "kwh_per_session", N_("Energy per charging session"), "kWh", 1),
    (
        "demand",
        "resolution_m",
        N_("Demand resolution (raster cells merged into squares of)"),
        "m",
        1,
    ),
    ("demand", "min_population", N_("Smallest population counted as a demand point"), "people", 1),
    ("stations", "objective", N_("Objective of the station plan"), "-", 1),
    ("stations", "cutoff_min", N_("Drive time counted as covered"), "min", 1),
    ("stations", "budget", N_("Budget"), "CNY", 1),
    ("stations", "max_stations", N_("New stations, at most"), N_("stations"), 1),
    ("stations", "min_coverage_share", N_("Sessions that must be covered"), "%", 100),
    ("stations", "township_min", N_("A station in every township"), "-", 1),
    ("stations", "use_existing", N_("Existing chargers serve demand"), "-", 1),
    ("stations", "charger_kw", N_("Power per charger"), "kW", 1),
    (
        "stations",
        "sessions_per_charger_per_day",
        N_("Sessions per charger per day"),
        "sessions/day",
        1,
    ),
    ("stations", "min_chargers", N_("Chargers per station, at least"), "chargers", 1),
    ("stations", "max_chargers", N_("Chargers per station, at most"), "chargers", 1),
    ("stations", "respect_headroom", N_("Chargers within substation headroom"), "-", 1),
    (
        "stations",
        "power_factor",
        N_("Power factor (substation headroom = rated kVA x factor - peak load)"),
        "-",
        1,
    ),
    (
        "costs",
        "station_capex",
        N_("Fixed cost per station, grid connection not included"),
        "CNY",
        1,
    ),
    ("costs", "charger_capex", N_("Cost per charger"), "CNY", 1),
    ("costs", "connection_per_km", N_("10 kV connection cost per km"), N_("CNY/km"), 1),
    ("costs", "connection_default", N_("Connection cost without grid data"), "CNY", 1),
    ("costs", "repair_point_capex", N_("Cost per repair point"), "CNY", 1),
    ("costs", "repair_at_station_capex", N_("Cost of a repair point at a station"), "CNY", 1),
    ("repair", "enabled", N_("Repair points planned"), "-", 1),
    ("repair", "mode", N_("Repair points planned with the stations or after"), "-", 1),
    ("repair", "response_min", N_("Repair response drive time"), "min", 1),
    ("network", "access_speed_kmh", N_("Speed off the road network"), N_("km/h"), 1),
    ("network", "use_maxspeed", N_("Road speed limits from OSM used"), "-", 1),
    ("solver", "name", N_("Solver"), "-", 1),
    ("solver", "mip_gap", N_("Optimality gap each pass must prove"), "%", 100),
    ("solver", "node_limit", N_("Work limit per solve"), N_("nodes"), 1),
    (
        "solver",
        "first_stall_nodes",
        N_("Work limit of the first pass: nodes without a better plan"),
        N_("nodes"),
        1,
    ),
    ("solver", "stall_nodes", N_("Work limit: nodes without a better plan"), N_("nodes"), 1),
    ("solver", "time_limit_s", N_("Safety time limit per solve"), N_("s"), 1),
)

#: OSM road classes, as printed.
ROAD_CLASSES = {
    "motorway": N_("motorway"),
    "trunk": N_("trunk road"),
    "primary": N_("primary road"),
    "secondary": N_("secondary road"),
    "tertiary": N_("tertiary road"),
    "unclassified": N_("minor road"),
    "residential": N_("residential street"),
    "living_street": N_("living street"),
    "service": N_("service road"),
    "road": N_("road of unknown class"),
    "track": N_("track"),
}

#: Option values printed as words.
_WORDS = {
    "coverage": N_("most sessions covered"),
    "cost": N_("least cost"),
    "joint": N_("together with the stations"),
    "after": N_("after the stations"),
    "native": N_("the population raster's own cells"),
    "highs": "HiGHS",
    "cbc": "CBC",
}


def _lang(lang: Lang | None) -> Lang:
    return lang if lang is not None else translator("en")


def _value(value: Any, scale: float, lang: Lang) -> str:
    """A parameter's value as printed."""
    if value is None:
        return lang("none")
    if isinstance(value, bool):
        return lang.yes_no(value)
    if isinstance(value, str):
        return lang.gettext(_WORDS.get(value, value))
    number = float(value) * scale
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.4g}" if abs(number) < 1000 else f"{number:,.0f}"


def assumptions_table(
    config: Config, *, lang: Lang | None = None, summary: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Every planning parameter with its value, unit and source.

    Parameters
    ----------
    config
        The run's config.
    lang
        Language of the table (English if None).
    summary
        The run's summary: a demand resolution finer than the raster's cells is printed
        as what was used, the raster's cells (``demand_resolution_used``), with the
        value asked for.

    Returns
    -------
    DataFrame
        Columns parameter, value, unit, source (headers in the language); ``source`` says
        whether the county's config set the value or the planner's default applied. Road
        speeds follow, one row per road class.
    """
    lang = _lang(lang)
    rows = []
    for section, name, label, unit, scale in PARAMETERS:
        part = getattr(config, section)
        value = getattr(part, name)
        text = _value(value, scale, lang)
        used = (summary or {}).get("demand_resolution_used") if name == "resolution_m" else None
        if used is not None and used != value:
            asked = text + ("" if isinstance(value, str) else " " + lang.unit(unit))
            text = lang("{used} (asked: {asked})", used=_value(used, scale, lang), asked=asked)
            value = used
        rows.append(
            (
                lang.gettext(label),
                text,
                lang.unit("-" if isinstance(value, str) else unit),  # words have no unit
                _source(name in part.model_fields_set, lang),
            )
        )
    speeds_set = "speeds_kmh" in config.network.model_fields_set
    for road, speed in config.network.speeds_kmh.items():
        rows.append(
            (
                lang("Speed on {road}", road=lang.gettext(ROAD_CLASSES.get(road, road))),
                _value(speed, 1, lang),
                lang.gettext("km/h"),
                _source(speeds_set, lang),
            )
        )
    if config.tours.enabled:
        # imported here: the tours' tables import the report's sections, which import this
        from planner.report.tour_tables import tour_assumptions

        for label, value, unit, given in tour_assumptions(config.tours, lang=lang):
            rows.append((label, value, unit, _source(given, lang)))
    headers = [lang("Parameter"), lang("Value"), lang("Unit"), lang("Source")]
    return pd.DataFrame(rows, columns=headers)


def _source(set_by_county: bool, lang: Lang) -> str:
    return lang("county config") if set_by_county else lang("planner default")


#: Input name -> what it holds, as printed.
_INPUTS = {
    "boundaries": N_("County and township boundaries"),
    "osm": N_("Roads, outlets and settlements (OpenStreetMap)"),
    "population": N_("Population raster"),
    "substations": N_("Substation capacity table"),
    "outlets": N_("Outlet tables"),
    "chargers": N_("Existing charger tables"),
    "grid_substations": N_("Substations (grid company)"),
    "grid_lines": N_("10 kV lines (grid company)"),
}


def _input_files(config: Config) -> dict[str, list[str]]:
    """Input name -> the file names it was read from."""
    inp = config.inputs
    files: dict[str, list[str]] = {}
    single: dict[str, Any] = {
        "boundaries": inp.boundaries,
        "osm": inp.osm,
        "population": inp.population,
        "substations": inp.substations,
    }
    for name, item in single.items():
        path = getattr(item, "path", None) if item is not None else None
        if path is not None:
            files[name] = [path.name]
        elif name == "boundaries" and inp.boundaries.source == "database":
            files[name] = [_database_source(inp.boundaries.county_layer)]
        elif name == "osm" or (name == "boundaries" and inp.boundaries.source == "osm"):
            files[name] = ["Overpass" if name == "osm" else "OpenStreetMap"]
    for name in ("outlets", "chargers", "grid_substations", "grid_lines"):
        items = getattr(inp, name)
        if items:
            files[name] = [
                i.path.name if i.path is not None else _database_source(i.table) for i in items
            ]
    return files


def _database_source(table: str | None) -> str:
    """``PostGIS schema.table`` (``PostGIS SQL`` for a query)."""
    from planner.ingest.postgis import is_query

    return f"PostGIS {'SQL' if not table or is_query(table) else table}"


def data_sources(config: Config, *, lang: Lang | None = None) -> pd.DataFrame:
    """The inputs of a run: what each holds, the files read and their provider and licence.

    The provider and licence come from ``inputs.attribution``; OpenStreetMap inputs
    without one are credited with :data:`OSM_ATTRIBUTION` (the demo county states that its
    OSM-format files are synthetic), others without one say that it is not stated.
    """
    lang = _lang(lang)
    given = config.inputs.attribution
    osm_boundaries = config.inputs.boundaries.source == "osm"
    rows = []
    for name, files in _input_files(config).items():
        credit = given.get(name)  # type: ignore[call-overload]
        if credit is None and (name == "osm" or (name == "boundaries" and osm_boundaries)):
            credit = OSM_ATTRIBUTION
        rows.append(
            (
                lang.gettext(_INPUTS[name]),
                ", ".join(files),
                credit or lang("not stated (set inputs.attribution in the config)"),
            )
        )
    headers = [lang("Data"), lang("Files"), lang("Provider and licence")]
    return pd.DataFrame(rows, columns=headers)


def map_credit(config: Config) -> str:
    """The credit of a map drawn from the run's OSM input (its attribution, else OSM's)."""
    return config.inputs.attribution.get("osm") or OSM_ATTRIBUTION


def attribution(*, lang: Lang | None = None, credit: str | None = None) -> str:
    """The road data's credit (OpenStreetMap's unless the run names its own, see
    :func:`map_credit`), introduced in the language."""
    return _lang(lang)("Road network and places: {credit}", credit=credit or OSM_ATTRIBUTION)


#: Solver status -> printed word.
_STATUS = {
    "optimal": N_("optimal (gap proved)"),
    "time_limit": N_("stopped by the time limit"),
    "node_limit": N_("stopped by the work limit"),
    "feasible": N_("feasible, gap not proved"),
    "infeasible": N_("infeasible"),
    "no_plan": N_("no plan"),
    "interrupted": N_("interrupted"),
    "iteration_limit": N_("stopped by the work limit"),
    "solution_limit": N_("stopped by the work limit"),
    "unbounded": N_("unbounded"),
}

#: Pass -> printed name (the passes of planner.optimize.passes, in their order).
_PASSES = {
    "coverage": N_("most sessions covered"),
    "capex": N_("least capital cost"),
    "drive_time": N_("shortest drive times"),
    "repair": N_("repair points"),
}

#: Model family (the model name up to its first '_' or ':') -> printed name.
_MODELS = {
    "two": N_("stations with repair points"),
    "stations": N_("charging stations"),
    "repair": N_("repair points"),
    "start": N_("start plan"),
    "cflp": N_("capacitated facility location"),
    "pcenter": N_("p-centre"),
    "p": N_("p-median"),
}


#: Pass -> the unit of its objective and bound, and the decimals they are shown with.
_PASS_UNITS = {
    "coverage": ("sessions/day", 1),
    "capex": ("CNY", 0),
    "drive_time": ("session-minutes/day", 0),
    "repair": ("CNY", 0),
}


def objective_text(code: str, value: float | None, *, lang: Lang | None = None) -> str:
    """A pass's objective or bound with its unit (``14,872,450 元``, ``1,179.6 次/日``);
    empty when there is none."""
    if value is None:
        return ""
    lang = _lang(lang)
    unit, digits = _PASS_UNITS.get(code, ("", 2))
    text = f"{float(value):,.{digits}f}"
    return f"{text} {lang.unit(unit)}" if unit else text


def _pass_format(code: str) -> Callable[[float], str]:
    """How a pass's objective and bound are written (its unit's decimals)."""
    digits = _PASS_UNITS.get(code, ("", 1))[1]
    return lambda v: f"{v:,.{digits}f}"


def pass_name(code: str, *, lang: Lang | None = None) -> str:
    """A solver pass (``coverage``, ``capex``, ``drive_time``) as printed."""
    return _lang(lang).gettext(_PASSES.get(code, code))


def status_text(status: str, *, lang: Lang | None = None) -> str:
    """A solve status (``optimal``, ``time_limit``, ...) as printed."""
    return _lang(lang).gettext(_STATUS.get(status, status))


def _model(name: str, lang: Lang) -> str:
    family = name.replace(":", "_").split("_")[0]
    return lang.gettext(_MODELS[family]) if family in _MODELS else name


def _number(value: Any, fmt: Callable[[float], str]) -> str:
    return "" if value is None else fmt(float(value))


def pass_status(summary: dict[str, Any], *, lang: Lang | None = None) -> pd.DataFrame:
    """One row per solver pass: pass, model, solver, status, objective, bound, gap, seconds."""
    lang = _lang(lang)
    rows = [
        (
            pass_name(str(solve.get("pass", "")), lang=lang),
            _model(str(solve.get("model", "")), lang),
            str(solve.get("solver", "")).replace("highs", "HiGHS").replace("cbc", "CBC"),
            status_text(str(solve.get("status")), lang=lang),
            _number(solve.get("objective"), _pass_format(str(solve.get("pass", "")))),
            _number(solve.get("bound"), _pass_format(str(solve.get("pass", "")))),
            lang.unit(_PASS_UNITS.get(str(solve.get("pass", "")), ("", 0))[0]),
            _number(solve.get("gap"), lambda v: f"{100 * v:.3f}%")
            or lang("no bound (stopped first)"),
            _number(solve.get("solve_s"), lambda v: f"{v:.1f}"),
        )
        for solve in summary.get("solves", [])
    ]
    headers = [
        lang("Pass"),
        lang("Model"),
        lang("Solver"),
        lang("Status"),
        lang("Objective"),
        lang("Bound"),
        lang("Unit"),
        lang("Gap"),
        lang("Solve time (s)"),
    ]
    return pd.DataFrame(rows, columns=headers)
