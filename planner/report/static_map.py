"""The static map of a plan (map.png, also embedded in report.html), with matplotlib.

Figures are drawn on matplotlib's Agg canvas directly (no pyplot, no global backend
state). Township names are drawn in a font with Chinese glyphs when the machine has
one (:mod:`planner.report.fonts`); without one, townships with non-Latin names are
labelled by their code instead (never with empty boxes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import geopandas as gpd
import numpy as np

from planner import columns as C
from planner.crs import to_crs_valid
from planner.i18n import Lang, translator
from planner.report.figures import figure_png
from planner.report.fonts import chinese_font, figure_style
from planner.spatial import county_outline
from planner.squares import display_squares, side_text

if TYPE_CHECKING:  # matplotlib is imported where a figure is drawn
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_STATION = "#2e86de"
_REPAIR = "#b33771"
_EXISTING = "#fdcb6e"
_NO_DEMAND = "#b2b2b2"  # townships without demand: grey, not "0% covered" red


class _Mark(NamedTuple):
    """How a kind of site is drawn: marker, size (points²), fill, edge and its width, z-order."""

    marker: str
    size: float
    fill: str
    edge: str
    width: float
    zorder: int


_EXISTING_MARK = _Mark("^", 40, _EXISTING, "#2d3436", 0.8, 4)
_REPAIR_MARK = _Mark("D", 70, _REPAIR, "#6d214f", 1, 6)


def township_label(name: object, code: object, *, cjk_font: bool) -> str:
    """A township's label: its name, or its code where the name needs a missing font."""
    text = "" if name is None or (isinstance(name, float) and np.isnan(name)) else str(name)
    if text and (cjk_font or text.isascii()):
        return text
    return str(code)


def _metric(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    towns = layers["townships"]
    crs = towns.crs if towns.crs is not None and towns.crs.is_projected else None
    if crs is None:
        crs = towns.to_crs(4326).estimate_utm_crs()
    return {k: to_crs_valid(g, crs) for k, g in layers.items() if g.crs is not None}


def _scale_bar(ax: Axes, extent: tuple[float, float, float, float], *, lang: Lang) -> None:
    minx, miny, maxx, _ = extent
    width = maxx - minx
    target = width / 5
    step = 10 ** np.floor(np.log10(target))
    length = max(s * step for s in (1, 2, 5) if s * step <= target)
    x0, y0 = minx + width * 0.04, miny + (extent[3] - miny) * 0.04
    ax.plot([x0, x0 + length], [y0, y0], color="black", lw=3, solid_capstyle="butt")
    km, m = f"{length / 1000:g}", f"{length:g}"
    label = lang("{n} km", n=km) if length >= 1000 else lang("{n} m", n=m)
    ax.text(x0 + length / 2, y0, label, ha="center", va="bottom", fontsize=8)


def plot_plan(
    layers: dict[str, gpd.GeoDataFrame],
    *,
    title: str,
    title_latin: str | None = None,
    size_in: float = 8.0,
    lang: Lang | None = None,
    max_demand_points: int | None = None,
    warning: str | None = None,
) -> Figure:
    """Draw the plan: townships shaded by coverage, demand, stations, repair points.

    Parameters
    ----------
    layers
        ``townships`` (with ``covered_share`` and ``sessions_day``; those without
        sessions are grey, "no demand"), ``demand``, ``stations`` (with ``chargers``),
        ``repair_points``; optional ``existing_chargers`` and ``service_areas``
        (outlined). Any CRS; drawn in a metric one.
    title
        Figure title.
    title_latin
        Title used instead when it needs Chinese glyphs and no font has them.
    size_in
        Width and height in inches.
    lang
        Language of the legend, scale bar and north arrow (English when None).
    max_demand_points
        Above this many demand points, demand is drawn merged into squares
        (:func:`planner.squares.display_squares`; the legend says so). None: no limit.
    warning
        A line in red under the title (e.g. that a time limit stopped a pass).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    lang = lang if lang is not None else translator("en")
    g = _metric(layers)
    towns = g["townships"]
    with figure_style():
        cjk = chinese_font() is not None
        minx, miny, maxx, maxy = towns.total_bounds
        aspect = float(np.clip((maxy - miny) / max(maxx - minx, 1e-9), 0.5, 1.5))
        fig = Figure(figsize=(size_in, size_in * aspect * 0.85 + 0.8), layout="constrained")
        ax = fig.add_subplot()
        handles = _shade_townships(ax, towns, lang=lang)
        county = gpd.GeoSeries([county_outline(towns.geometry)], crs=towns.crs)
        county.boundary.plot(ax=ax, color="#222222", linewidth=1.6)
        handles += _draw_service_areas(ax, g.get("service_areas"), lang=lang)
        handles += _draw_demand(ax, g.get("demand"), lang=lang, max_points=max_demand_points)
        handles += _draw_sites(ax, g, lang=lang)
        _label_townships(ax, towns, cjk_font=cjk)
        _frame(ax, (minx, miny, maxx, maxy), lang=lang)
        ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.85)
        if not cjk and not title.isascii() and title_latin is not None:
            title = title_latin
        ax.set_title(title, fontsize=12, pad=18 if warning else 6)
        if warning:  # English when no font has Chinese glyphs (an ASCII note)
            ax.text(0.5, 1.01, warning if cjk or warning.isascii() else "NOT PROVEN: time limit",
                    transform=ax.transAxes, ha="center", va="bottom", fontsize=9,
                    color="#b00020", fontweight="bold")  # fmt: skip
    return fig


def _draw_service_areas(ax: Axes, areas: gpd.GeoDataFrame | None, *, lang: Lang) -> list[Artist]:
    """Outline the repair service areas; returns legend handles."""
    from matplotlib.lines import Line2D

    if areas is None or not len(areas):
        return []
    areas.boundary.plot(ax=ax, color=_STATION, linewidth=0.8, linestyle="--")
    return [Line2D([], [], color=_STATION, ls="--", label=lang("repair service areas"))]


def _draw_demand(
    ax: Axes, demand: gpd.GeoDataFrame | None, *, lang: Lang, max_points: int | None = None
) -> list[Artist]:
    """Demand points sized by sessions, covered green and not covered red; legend handles.

    Above ``max_points`` points they are drawn merged into squares, and a legend line
    says so.
    """
    from matplotlib.lines import Line2D

    if demand is None or not len(demand):
        return []
    side = None
    if max_points is not None:
        demand, side = display_squares(demand, max_points)
    served = demand[C.COVERED_SHARE].fillna(0) >= 0.999
    size = 3 + 6 * np.sqrt(demand[C.SESSIONS_DAY].clip(lower=0))
    ax.scatter(
        demand.geometry.x[served], demand.geometry.y[served], s=size[served],
        c="#27ae60", alpha=0.5, linewidths=0,
    )  # fmt: skip
    ax.scatter(
        demand.geometry.x[~served], demand.geometry.y[~served], s=size[~served],
        c="#c0392b", alpha=0.7, linewidths=0,
    )  # fmt: skip
    handles: list[Artist] = [
        Line2D([], [], ls="", marker="o", ms=4, color="#27ae60", label=lang("demand, covered")),
        Line2D([], [], ls="", marker="o", ms=4, color="#c0392b", label=lang("demand, not covered")),
    ]
    if side is not None:
        label = lang("demand drawn in {side} squares", side=side_text(side, lang))
        handles.append(Line2D([], [], ls="", label=label))
    return handles


def _draw_sites(ax: Axes, g: dict[str, gpd.GeoDataFrame], *, lang: Lang) -> list[Artist]:
    """Existing chargers, stations (sized by chargers) and repair points; legend handles."""
    from matplotlib.lines import Line2D

    handles: list[Artist] = []
    existing = g.get("existing_chargers")
    if existing is not None and len(existing):
        handles.append(_draw_marks(ax, existing, _EXISTING_MARK, lang("existing chargers")))
    st = g["stations"]
    if len(st):
        ax.scatter(
            st.geometry.x, st.geometry.y, s=30 + 12 * st[C.CHARGERS].astype(float),
            c=_STATION, edgecolors="#0b3d91", linewidths=1.2, zorder=5,
        )  # fmt: skip
    handles.append(
        Line2D([], [], ls="", marker="o", ms=9, mfc=_STATION, mec="#0b3d91",
               label=lang("charging stations ({n}; size: chargers)", n=len(st)))
    )  # fmt: skip
    handles += _size_key(st, lang=lang)
    rp = g.get("repair_points")
    if rp is not None and len(rp):
        handles.append(_draw_marks(ax, rp, _REPAIR_MARK, lang("repair points ({n})", n=len(rp))))
    return handles


def _size_key(stations: gpd.GeoDataFrame, *, lang: Lang) -> list[Artist]:
    """Legend lines for the fewest and most chargers of a station (and one between):
    the marker sizes the map draws them at."""
    from matplotlib.lines import Line2D

    if len(stations) == 0:
        return []
    counts = stations[C.CHARGERS].astype(int)
    low, high = int(counts.min()), int(counts.max())
    shown = sorted({low, (low + high) // 2, high}) if high - low > 2 else sorted({low, high})
    return [
        Line2D([], [], ls="", marker="o", ms=float(np.sqrt(30 + 12 * n)), mfc=_STATION,
               mec="#0b3d91", alpha=0.8, label="   " + lang("{n} chargers", n=n))
        for n in shown
    ]  # fmt: skip


def _draw_marks(ax: Axes, sites: gpd.GeoDataFrame, mark: _Mark, label: str) -> Artist:
    """Sites drawn as one kind of marker; their legend handle."""
    from matplotlib.lines import Line2D

    ax.scatter(
        sites.geometry.x, sites.geometry.y, s=mark.size, marker=mark.marker, c=mark.fill,
        edgecolors=mark.edge, linewidths=mark.width, zorder=mark.zorder,
    )  # fmt: skip
    return Line2D(
        [], [], ls="", marker=mark.marker, ms=7, mfc=mark.fill, mec=mark.edge, label=label
    )


def _label_townships(ax: Axes, towns: gpd.GeoDataFrame, *, cjk_font: bool) -> None:
    """Each township's name (or code, see :func:`township_label`) on a white halo."""
    from matplotlib import patheffects

    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    for _, t in towns.iterrows():
        p = t.geometry.representative_point()
        ax.annotate(
            township_label(t[C.TOWNSHIP_NAME], t[C.TOWNSHIP_ID], cjk_font=cjk_font),
            (p.x, p.y),
            ha="center",
            va="center",
            fontsize=8,
            color="#1e272e",
            zorder=7,
            path_effects=halo,
        )


def _frame(ax: Axes, extent: tuple[float, float, float, float], *, lang: Lang) -> None:
    """Limits with a margin, equal aspect, no axes; a scale bar and a north arrow."""
    minx, miny, maxx, maxy = extent
    pad = 0.03 * max(maxx - minx, maxy - miny)
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_xlabel("")  # geopandas names the CRS axes (Easting [metre]); they are not drawn
    ax.set_ylabel("")
    _scale_bar(ax, extent, lang=lang)
    ax.annotate(
        lang("N"), xy=(0.96, 0.97), xytext=(0.96, 0.90), xycoords="axes fraction",
        ha="center", fontsize=10, arrowprops={"arrowstyle": "-|>", "color": "black"},
    )  # fmt: skip


def _shade_townships(ax: Axes, towns: gpd.GeoDataFrame, *, lang: Lang) -> list[Artist]:
    """Townships shaded by covered share; those without demand grey. Returns legend handles."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    empty = ~(towns[C.SESSIONS_DAY] > 0).to_numpy()
    style: dict[str, Any] = {"edgecolor": "#666666", "linewidth": 0.6, "alpha": 0.55}
    if (~empty).any():
        towns[~empty].plot(
            ax=ax,
            column=C.COVERED_SHARE,
            cmap="RdYlGn",
            vmin=0,
            vmax=1,
            legend=True,
            legend_kwds={
                "label": lang("share of charging sessions covered"),
                "shrink": 0.7,
                "format": PercentFormatter(1.0, decimals=0),  # as the report's shares
            },
            **style,
        )
    if not empty.any():
        return []
    towns[empty].plot(ax=ax, color=_NO_DEMAND, **style)
    return [Patch(facecolor=_NO_DEMAND, edgecolor="#666666", label=lang("township: no demand"))]


def render_png(fig: Figure, *, dpi: int = 130) -> bytes:
    """The figure as PNG bytes (Agg), in the same font setting it was drawn with."""
    with figure_style():
        return figure_png(fig, dpi=dpi)
