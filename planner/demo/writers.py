"""Building the demo county and writing its files, as real data arrives.

:func:`build_demo` generates one county (:mod:`planner.demo.layout`,
:mod:`planner.demo.roads`, :mod:`planner.demo.assets`, :mod:`planner.demo.power`) around
the origin, moves it to its real place and writes its files
(:func:`planner.demo.province.build_province` writes several side by side).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import rasterio
import shapely
import yaml
from osmium.osm import mutable
from pyproj import Transformer
from rasterio.transform import Affine

from planner.crs import GeomT
from planner.demo.assets import build_places, build_pois, operator_chargers, population_grid
from planner.demo.layout import (
    Settlement,
    county_polygon,
    outside_villages,
    settlements,
    township_codes,
    townships,
)
from planner.demo.names import QINGXI, DemoIdentity
from planner.demo.params import DEFAULT_PARAMS, DEFAULT_SEED, DemoParams
from planner.demo.power import build_grid, township_budget
from planner.demo.roads import Osm, build_roads
from planner.generated import generated_dir

logger = logging.getLogger(__name__)

_OSM_EPSG = 4326  # OSM files are in WGS 84
_PRECISION_DEG = 1e-7  # ~1 cm: the precision GIS and OSM files carry


@dataclass
class _County:
    """A generated county: outline, townships, settlements, OSM elements, tables."""

    county: shapely.Polygon
    town_polys: list[shapely.Polygon]
    settlements: list[Settlement]
    osm: Osm
    grid_table: pd.DataFrame
    outside: list[tuple[float, float, float]]

    @property
    def towns(self) -> list[Settlement]:
        return [s for s in self.settlements if s.kind != "village"]

    @property
    def villages(self) -> list[Settlement]:
        return [s for s in self.settlements if s.kind == "village"]


def build_demo(
    out_dir: str | Path,
    *,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    overwrite: bool = True,
    identity: DemoIdentity = QINGXI,
    params: DemoParams = DEFAULT_PARAMS,
    id_offset: int = 0,
) -> Path:
    """Generate the demo county's input files and config.

    Parameters
    ----------
    out_dir
        Folder to write: its files are replaced, each atomically, by the new ones; other
        files stay, and a file edited since it was written stops the write
        (:mod:`planner.generated`).
    scale
        Multiplies area, townships, villages, people and roads; 1 gives ~300,000 people
        and ~4,300 road nodes, 20 about 100,000 road nodes.
    seed
        Random seed; the same seed and scale give the same files.
    overwrite
        Replace an existing folder.
    identity
        Name, codes and place of the county (default: 青溪县).
    params
        Generator knobs (default: the usual demo county's).
    id_offset
        Added to the OSM ids of nodes and ways (counties of one province keep apart ids).

    Returns
    -------
    Path
        The config file.
    """
    slug = identity.slug
    if scale <= 0 or scale > 100:
        msg = f"--scale must be in (0, 100], got {scale}"
        raise ValueError(msg)
    out_dir = Path(out_dir)
    cfg_path = out_dir / f"{slug}.yaml"
    if cfg_path.exists() and not overwrite:
        return cfg_path
    to_metric = Transformer.from_crs(params.geographic_epsg, params.metric_epsg, always_xy=True)
    origin = to_metric.transform(*identity.center)
    gen = _generate(np.random.default_rng(seed), scale, params=params)
    _name_places(gen.osm, identity.name)
    _move(gen, origin)
    with generated_dir(out_dir, marker=f"{slug}.yaml") as tmp:
        _write_files(tmp, gen, identity, scale=scale, params=params, id_offset=id_offset)
    logger.info(
        "demo county written to %s: %d townships, %d villages, %d OSM nodes, %d ways",
        out_dir,
        len(gen.towns),
        len(gen.villages),
        len(gen.osm.xy),
        len(gen.osm.ways),
    )
    return cfg_path


def _name_places(osm: Osm, county: str) -> None:
    """The county seat's outlets carry the county's name (青溪华联超市 in 青溪县, 石门华联超市
    in 石门县): the generator writes them for 青溪."""
    stem = county.removesuffix("县").removesuffix("市") or county
    if stem == "青溪":
        return
    for tags in [*osm.node_tags.values(), *(t for _, t in osm.ways)]:
        if "name" in tags and "青溪" in tags["name"]:
            tags["name"] = tags["name"].replace("青溪", stem)


def demo_files(slug: str) -> list[str]:
    """The names of the files :func:`build_demo` writes for county ``slug``."""
    return [
        f"{slug}_boundaries.gpkg",
        f"{slug}.osm.pbf",
        f"{slug}_substations.csv",
        f"{slug}_operator_chargers.csv",
        f"{slug}_population.tif",
        f"{slug}.yaml",
    ]


def _generate(rng: np.random.Generator, scale: float, *, params: DemoParams) -> _County:
    """A county around the origin, in metres (the order of the steps fixes the draws)."""
    radius = params.radius_m * math.sqrt(scale)
    county = county_polygon(rng, radius, params=params)
    people, seats = settlements(rng, county, scale, radius, params=params)
    towns = [s for s in people if s.kind != "village"]
    villages = [s for s in people if s.kind == "village"]
    town_polys = townships(county, seats, params=params)
    osm = Osm()
    build_roads(osm, rng, county, towns, villages, radius, params=params)
    build_places(osm, towns, villages, rng, params=params)
    build_pois(osm, rng, towns, villages, params=params)
    grid_table = build_grid(osm, rng, towns, params=params)
    outside = outside_villages(rng, county, scale, params=params)
    return _County(county, town_polys, people, osm, grid_table, outside)


def _move(gen: _County, origin: tuple[float, float]) -> None:
    """Shift everything from around (0, 0) to the county's real place."""
    ox, oy = origin

    def shift(geom: GeomT) -> GeomT:
        return shapely.transform(geom, lambda a: a + np.array([ox, oy]))

    gen.osm.xy = [(x + ox, y + oy) for x, y in gen.osm.xy]
    for s in gen.settlements:
        s.x, s.y = s.x + ox, s.y + oy
    gen.outside = [(x + ox, y + oy, p) for x, y, p in gen.outside]
    gen.county = shift(gen.county)
    gen.town_polys = [shift(p) for p in gen.town_polys]


def _write_files(
    folder: Path,
    gen: _County,
    identity: DemoIdentity,
    *,
    scale: float,
    params: DemoParams,
    id_offset: int,
) -> None:
    """All the county's files, in ``folder``."""
    slug = identity.slug
    to_lonlat = Transformer.from_crs(params.metric_epsg, _OSM_EPSG, always_xy=True)
    to_raster = Transformer.from_crs(params.metric_epsg, params.raster_epsg, always_xy=True)
    _write_boundaries(folder / f"{slug}_boundaries.gpkg", gen, identity, params=params)
    _write_osm(folder / f"{slug}.osm.pbf", gen.osm, to_lonlat, id_offset=id_offset)
    gen.grid_table.to_csv(folder / f"{slug}_substations.csv", index=False)
    # an operator's charger list as such lists arrive: GBK text, GCJ-02 coordinates
    operator_chargers(gen.towns, to_lonlat).to_csv(
        folder / f"{slug}_operator_chargers.csv", index=False, encoding="gbk"
    )
    values, transform = population_grid(
        gen.county, gen.settlements, gen.outside, to_raster, params=params
    )
    _write_population(folder / f"{slug}_population.tif", values, transform, params=params)
    base = demo_budget(scale)
    budget = township_budget(gen.osm, gen.towns, base=base, params=params)
    (folder / f"{slug}.yaml").write_text(
        demo_config_text(scale=scale, identity=identity, budget=budget), encoding="utf-8"
    )


def _write_boundaries(
    path: Path, gen: _County, identity: DemoIdentity, *, params: DemoParams
) -> None:
    """Layers ``county`` and ``townships`` in EPSG:4490, snapped to 1e-7 degree."""
    towns = gen.towns
    town_gdf = gpd.GeoDataFrame(
        {
            "code": township_codes(towns, identity.code),
            "name": [t.name for t in towns],
            "name_pinyin": [t.pinyin for t in towns],
            "kind": ["镇" if t.name.endswith("镇") else "乡" for t in towns],
        },
        geometry=gen.town_polys,
        crs=params.metric_epsg,
    ).to_crs(params.geographic_epsg)
    # snap to 1e-7 degree (~1 cm): the precision GIS files carry, and valid polygons
    town_gdf.geometry = shapely.set_precision(
        shapely.make_valid(town_gdf.geometry.to_numpy()), _PRECISION_DEG
    )
    county_gdf = gpd.GeoDataFrame(
        {"code": [identity.code], "name": [identity.name], "name_pinyin": [identity.pinyin]},
        geometry=[gen.county],
        crs=params.metric_epsg,
    ).to_crs(params.geographic_epsg)
    county_gdf.geometry = shapely.set_precision(county_gdf.geometry.to_numpy(), _PRECISION_DEG)
    county_gdf.to_file(path, layer="county", engine="pyogrio")
    town_gdf.to_file(path, layer="townships", engine="pyogrio")


def _write_osm(path: Path, osm: Osm, to_lonlat: Transformer, *, id_offset: int = 0) -> None:
    """The OSM elements as ``.osm.pbf``, in WGS 84 to 1e-7 degree (7 decimals), ids from
    ``id_offset + 1``."""
    xy = np.array(osm.xy)
    lon, lat = to_lonlat.transform(xy[:, 0], xy[:, 1])
    writer = osmium.SimpleWriter(str(path), overwrite=True)
    try:
        for i in range(len(xy)):
            writer.add_node(
                mutable.Node(
                    id=id_offset + i + 1,
                    location=(round(float(lon[i]), 7), round(float(lat[i]), 7)),
                    tags=osm.node_tags.get(i, {}),
                    version=1,
                )
            )
        for k, (nodes, tags) in enumerate(osm.ways):
            writer.add_way(
                mutable.Way(
                    id=id_offset + k + 1,
                    nodes=[id_offset + n + 1 for n in nodes],
                    tags=tags,
                    version=1,
                )
            )
    finally:
        writer.close()


def _write_population(
    path: Path, values: np.ndarray, transform: Affine, *, params: DemoParams
) -> None:
    """People per cell as a Cloud-Optimised GeoTIFF (float32, deflate)."""
    height, width = values.shape
    profile = {
        "driver": "COG",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": f"EPSG:{params.raster_epsg}",
        "transform": transform,
        "nodata": params.raster_nodata,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype(np.float32), 1)
        dst.update_tags(units="people per cell", source="planner demo (synthetic)")


def demo_budget(scale: float) -> float:
    """The demo config's usual budget: 16 million CNY, times ``scale`` above 1."""
    return float(round(16_000_000 * max(scale, 1.0)))


def demo_config_text(
    *, scale: float = 1.0, identity: DemoIdentity = QINGXI, budget: float | None = None
) -> str:
    """The demo county's YAML config (``budget``: default :func:`demo_budget`)."""
    slug = identity.slug
    cfg = {
        "county": {"name": identity.name, "slug": slug},
        "inputs": {
            "boundaries": {
                "path": f"{slug}_boundaries.gpkg",
                "county_layer": "county",
                "township_layer": "townships",
                "township_id_field": "code",
                "township_name_field": "name",
            },
            "osm": {"path": f"{slug}.osm.pbf"},
            "population": {"path": f"{slug}_population.tif"},
            "substations": {"path": f"{slug}_substations.csv"},
            "chargers": [
                {
                    "path": f"{slug}_operator_chargers.csv",
                    "crs": "gcj02",
                    "lon_field": "经度",
                    "lat_field": "纬度",
                    "name_field": "名称",
                    "operator_field": "运营商",
                    "sockets_field": "枪数",
                }
            ],
            "attribution": {
                name: "合成示例数据（planner demo 生成，无真实地点），MIT 许可"
                for name in ("boundaries", "osm", "population", "substations", "chargers")
            },
        },
        "demand": {"ev_adoption": 0.12},
        "stations": {
            "cutoff_min": 15,
            # small counties keep enough for a station in every township; counties with
            # a thin grid get more (planner.demo.power.township_budget)
            "budget": round(demo_budget(scale) if budget is None else budget),
            "township_min": True,
        },
        # large synthetic counties have a few remote villages beyond 30 min of any site
        "repair": {"response_min": 30, "unreachable": "error" if scale <= 1 else "warn"},
        # the repair vans' week: two vans per repair point visit the villages with 3 EVs or
        # more and every station once a week (2000 iterations: a few seconds, deterministic).
        # Off above scale 2 to keep large demo runs short: at scale 20 (7,519 stops, one
        # problem per repair point above tours.decompose_above) the stage takes about 150
        # CPU s; turn them on with `--set tours.enabled=true`
        "tours": {
            "enabled": scale <= 2,
            "vans_per_point": 2,
            "stops": ["villages", "stations"],
            "villages": {"min_evs": 3},
            "iterations": 2000,
        },
        # the time limit is a safety net: every pass stops on its gap or a node count,
        # deterministically; it stays far above the longest solve (at --scale 5 the capex
        # pass's, about 200 s), so that a slower machine does not decide the plan
        "solver": {"name": "highs", "time_limit_s": 600, "mip_gap": 0.005, "threads": 1},
    }
    head = (
        "# Demo county config (generated by `planner demo`). Every key is documented in\n"
        "# planner/config/ (`planner schema`); paths are relative to this file.\n"
    )
    return head + yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False)
