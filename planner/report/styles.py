"""How the GIS layers look in QGIS, GeoServer and Google Earth: one style model per layer.

:func:`layer_style` describes a layer's symbology once (symbols, the rules that pick them,
the field that labels features, the field aliases in the report language);
:mod:`planner.report.qml`, :mod:`planner.report.sld` and :mod:`planner.report.kml` write
that model in their formats, so the three agree. Colours are those of the map
(:mod:`planner.report.map.style`) and, for candidates, of the policy classes
(:data:`planner.vocab.CLASS_COLOURS`).

==================  ===========================================================
stations            blue circles sized by ``chargers`` (up to four classes),
                    labelled with their names
repair_points       magenta squares, labelled with their names
candidates          small circles coloured by ``policy_class``
demand              small grey points
townships           grey outlines without fill, labelled with township names
existing_chargers   yellow triangles
service_areas       translucent purple polygons
tours               the vans' routes, a colour per working day
tour_stops          the stops, coloured by day and labelled with their order in
                    the day's tour
==================  ===========================================================
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

import pandas as pd

from planner import columns as C
from planner.config.tours import WEEKDAYS
from planner.i18n import N_, Lang, translator
from planner.tours.layers import DAY_NAMES
from planner.vocab import CLASS_COLOURS, EXISTING_CLASS

#: Layers KML files hold unless asked for more: the plan itself, with the vans' routes
#: when the run has them.
KML_LAYERS: tuple[str, ...] = ("stations", "repair_points", "townships", "tours")

#: Title of each layer for people (legends, KML folders, QGIS layer names).
LAYER_TITLES: dict[str, str] = {
    "stations": N_("Charging stations"),
    "repair_points": N_("Repair points"),
    "candidates": N_("Candidate sites"),
    "demand": N_("Demand points"),
    "townships": N_("Township boundaries"),
    "existing_chargers": N_("Existing charging stations"),
    "substations": N_("Substations and their headroom"),
    "service_areas": N_("Repair service areas"),
    "tours": N_("Repair van tours"),
    "tour_stops": N_("Repair van stops"),
    "assignments": N_("Demand points' sessions by station"),
}

#: Colour of each working day (tours and their stops); Okabe-Ito, told apart by
#: colour-blind readers too.
DAY_COLOURS: dict[str, str] = {
    "mon": "#0072b2",
    "tue": "#d55e00",
    "wed": "#009e73",
    "thu": "#cc79a7",
    "fri": "#e69f00",
    "sat": "#56b4e9",
    "sun": "#7a5c00",
}

#: Order of the layers from top to bottom in a QGIS project (drawn last = on top first).
DRAW_ORDER: tuple[str, ...] = (
    "stations",
    "repair_points",
    "tour_stops",
    "tours",
    "existing_chargers",
    "substations",
    "candidates",
    "demand",
    "service_areas",
    "townships",
)


@dataclass(frozen=True)
class Symbol:
    """One symbol: a marker (points), a line, or a fill with an outline (polygons).

    Attributes
    ----------
    kind
        ``marker``, ``line`` or ``fill``.
    fill
        Fill colour ``#rrggbb``; None: no fill (an outline only).
    stroke
        Outline (or line) colour ``#rrggbb``.
    stroke_width
        Outline (or line) width in millimetres (0: none).
    size
        Marker diameter in millimetres.
    shape
        Marker shape: ``circle``, ``square`` or ``triangle``.
    fill_opacity
        Opacity of the fill, 0-1.
    """

    kind: Literal["marker", "line", "fill"]
    fill: str | None
    stroke: str
    stroke_width: float = 0.4
    size: float = 2.5
    shape: str = "circle"
    fill_opacity: float = 1.0


@dataclass(frozen=True)
class Rule:
    """Features whose field equals ``value`` or lies in ``bounds`` get ``symbol``.

    Attributes
    ----------
    key
        Short id, unique in its layer (used in KML style ids).
    label
        Legend text, in the report language.
    symbol
        The symbol.
    value
        A category: the field's value as text.
    bounds
        A class of numbers: lowest and highest value, both included.
    """

    key: str
    label: str
    symbol: Symbol
    value: str | None = None
    bounds: tuple[float, float] | None = None

    def matches(self, value: object) -> bool:
        """Whether a feature with this field value falls under the rule."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return False
        if self.bounds is not None:
            try:
                number = float(str(value))
            except ValueError:
                return False
            return self.bounds[0] <= number <= self.bounds[1]
        return str(value) == self.value


@dataclass(frozen=True)
class LayerStyle:
    """The look of one layer.

    Attributes
    ----------
    layer
        Layer name (``stations`` ...).
    title
        Its title for people, in the report language.
    geometry
        ``point``, ``line`` or ``polygon``.
    mode
        ``single`` (one symbol), ``categorized`` (a rule per value of ``field``) or
        ``graduated`` (a rule per class of numbers of ``field``).
    field
        The field the rules test (None for ``single``).
    rules
        The rules, in legend order.
    symbol
        The symbol of a ``single`` layer, and of features no rule matches.
    other_label
        Legend text of features no rule matches.
    label_field
        Field whose text labels the features on the map (None: no labels).
    aliases
        Field -> alias (its label in the report language), in the layer's field order.
    """

    layer: str
    title: str
    geometry: Literal["point", "line", "polygon"]
    mode: Literal["single", "categorized", "graduated"]
    field: str | None
    rules: tuple[Rule, ...]
    symbol: Symbol
    other_label: str
    label_field: str | None
    aliases: dict[str, str]

    def rule_for(self, value: object) -> Rule | None:
        """The first rule a feature with this field value falls under (None: none)."""
        return next((r for r in self.rules if r.matches(value)), None)

    def renamed(self, names: Mapping[str, str]) -> LayerStyle:
        """The same style for a file whose fields are renamed (``names``: column -> field)."""

        def new(col: str | None) -> str | None:
            return None if col is None else names.get(col, col)

        return replace(
            self,
            field=new(self.field),
            label_field=new(self.label_field),
            aliases={names.get(c, c): a for c, a in self.aliases.items()},
        )


_STATION = Symbol("marker", "#2e86de", "#0b3d91", 0.5, 3.0)
_REPAIR = Symbol("marker", "#b33771", "#6d214f", 0.5, 3.4, "square")
_EXISTING = Symbol("marker", "#fdcb6e", "#2d3436", 0.4, 2.8, "triangle")
_CANDIDATE = Symbol("marker", "#333333", "#232323", 0.2, 2.0)
_SUBSTATION = Symbol("marker", "#ffffff", "#c0392b", 0.6, 3.2, "square")
_DEMAND = Symbol("marker", "#7f8c8d", "#7f8c8d", 0.0, 1.0)
_TOWNSHIP = Symbol("fill", None, "#555555", 0.5)
_SERVICE_AREA = Symbol("fill", "#8e44ad", "#8e44ad", 0.3, fill_opacity=0.15)
_OTHER_POINT = Symbol("marker", "#333333", "#232323", 0.3, 2.0)
_OTHER_POLYGON = Symbol("fill", "#cccccc", "#555555", 0.3, fill_opacity=0.3)
_OTHER_LINE = Symbol("line", None, "#555555", 0.6)
_TOUR = Symbol("line", None, "#555555", 0.8)
_TOUR_STOP = Symbol("marker", "#555555", "#ffffff", 0.3, 2.6)
_OTHER = {"point": _OTHER_POINT, "line": _OTHER_LINE, "polygon": _OTHER_POLYGON}
#: Marker diameters of the charger classes of stations, smallest first (mm).
STATION_SIZES = (2.6, 3.4, 4.2, 5.0)

_SINGLE = {
    "repair_points": _REPAIR,
    "demand": _DEMAND,
    "townships": _TOWNSHIP,
    "existing_chargers": _EXISTING,
    "substations": _SUBSTATION,
    "service_areas": _SERVICE_AREA,
}
_LABELS = {
    "stations": C.NAME,
    "repair_points": C.NAME,
    "townships": C.TOWNSHIP_NAME,
    "tour_stops": C.ORDER,
    "substations": C.SUBSTATION_ID,
}
#: Geometry of the layers whose kind does not depend on their rows (an empty layer too).
_KINDS: dict[str, Literal["point", "line", "polygon"]] = {
    "townships": "polygon",
    "service_areas": "polygon",
    "tours": "line",
    "tour_stops": "point",
    "substations": "point",
}


def layer_title(layer: str, *, lang: Lang | None = None) -> str:
    """The title of a layer for people (the layer name for a layer without one)."""
    lang = lang or translator("en")
    return lang.gettext(LAYER_TITLES[layer]) if layer in LAYER_TITLES else layer


def charger_classes(
    values: Iterable[object], *, n: int = len(STATION_SIZES)
) -> list[tuple[int, int]]:
    """Classes of charger counts for sizing stations: at most ``n``, lowest first.

    Each distinct count is its own class when there are at most ``n`` of them; otherwise
    the distinct counts are split into ``n`` runs of (nearly) equal length.

    Returns
    -------
    list of (lowest, highest)
        Both included; consecutive classes do not overlap.
    """
    counts = sorted(
        {int(v) for v in pd.to_numeric(pd.Series(list(values)), errors="coerce").dropna()}
    )
    if len(counts) <= n:
        return [(c, c) for c in counts]
    size, extra = divmod(len(counts), n)
    out, start = [], 0
    for i in range(n):
        stop = start + size + (1 if i < extra else 0)
        out.append((counts[start], counts[stop - 1]))
        start = stop
    return out


def layer_style(layer: str, table: pd.DataFrame, *, lang: Lang | None = None) -> LayerStyle:
    """The look of one layer of a run.

    Parameters
    ----------
    layer
        Its name (a layer this module does not know gets a plain grey symbol).
    table
        The layer (its columns become field aliases; stations' charger counts set the
        size classes).
    lang
        Language of the titles, legend texts and aliases (None: English).

    Returns
    -------
    LayerStyle
    """
    lang = lang or translator("en")
    geom = getattr(table, "_geometry_column_name", None)
    fields = [str(c) for c in table.columns if c != geom]
    kind = _KINDS.get(layer) or _geometry_kind(table)
    label = _LABELS.get(layer)
    single = LayerStyle(
        layer=layer,
        title=layer_title(layer, lang=lang),
        geometry=kind,
        mode="single",
        field=None,
        rules=(),
        symbol=_SINGLE.get(layer, _OTHER[kind]),
        other_label=lang("other"),
        label_field=label if label in fields else None,
        aliases={c: lang.label(c) for c in fields},
    )
    if layer == "stations" and C.CHARGERS in fields:
        ranges = charger_classes(table[C.CHARGERS])
        rules = tuple(
            Rule(
                key=str(i + 1),
                label=(
                    lang("{low}–{high} chargers", low=low, high=high)
                    if high > low
                    else lang("{n} chargers", n=low)
                ),
                symbol=replace(_STATION, size=STATION_SIZES[i]),
                bounds=(float(low), float(high)),
            )
            for i, (low, high) in enumerate(ranges)
        )
        # no stations, no classes: one symbol
        mode: Literal["single", "graduated"] = "graduated" if rules else "single"
        return replace(single, mode=mode, field=C.CHARGERS, rules=rules, symbol=_STATION)
    if layer == "candidates" and C.POLICY_CLASS in fields:
        colours = {**CLASS_COLOURS, EXISTING_CLASS: _EXISTING.fill or "#fdcb6e"}
        rules = tuple(
            Rule(
                key=code,
                label=lang.policy_class(code),
                symbol=replace(_CANDIDATE, fill=colour),
                value=code,
            )
            for code, colour in colours.items()
        )
        return replace(
            single, mode="categorized", field=C.POLICY_CLASS, rules=rules, symbol=_CANDIDATE
        )
    if layer in ("tours", "tour_stops") and C.DAY in fields:
        return _by_day(single, table[C.DAY], _TOUR if layer == "tours" else _TOUR_STOP, lang)
    return single


def _by_day(single: LayerStyle, days: pd.Series, symbol: Symbol, lang: Lang) -> LayerStyle:
    """A layer categorised by working day: a colour per day the layer has (every day of
    the week for an empty layer), in week order."""
    present = {str(d) for d in days.dropna()}
    codes = [d for d in WEEKDAYS if d in present] or list(WEEKDAYS)
    line = symbol.kind == "line"
    rules = tuple(
        Rule(
            key=d,
            label=lang.gettext(DAY_NAMES[d]),
            symbol=replace(symbol, stroke=DAY_COLOURS[d])
            if line
            else replace(symbol, fill=DAY_COLOURS[d]),
            value=d,
        )
        for d in codes
    )
    return replace(single, mode="categorized", field=C.DAY, rules=rules, symbol=symbol)


def _geometry_kind(table: pd.DataFrame) -> Literal["point", "line", "polygon"]:
    """``polygon``, ``line`` or ``point`` (also for an empty layer) by the layer's geometries."""
    geom = getattr(table, "geometry", None)
    if geom is None or not len(table):
        return "point"
    types = set(geom.geom_type.dropna())
    if types & {"Polygon", "MultiPolygon"}:
        return "polygon"
    return "line" if types & {"LineString", "MultiLineString"} else "point"


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` (or ``#rgb``) as red, green, blue 0-255."""
    text = colour.lstrip("#")
    if len(text) == 3:
        text = "".join(ch * 2 for ch in text)
    return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
