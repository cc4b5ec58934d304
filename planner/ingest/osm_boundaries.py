"""County and township polygons from OSM administrative boundary relations."""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import osmium
import shapely

from planner import columns as C
from planner.errors import check_input_file, data_error

logger = logging.getLogger(__name__)

_NAME_KEYS = ("name", "official_name", "alt_name", "int_name", "short_name")


def _names(tags: dict[str, str]) -> set[str]:
    """Every name of a boundary, in any language, lower-cased."""
    return {
        v.strip().casefold()
        for k, v in tags.items()
        if k in _NAME_KEYS or k.split(":")[0] in _NAME_KEYS
    }


def read_admin_areas(path: str | Path) -> gpd.GeoDataFrame:
    """Every ``boundary=administrative`` relation that assembles into a polygon.

    Parameters
    ----------
    path
        OSM extract.

    Returns
    -------
    GeoDataFrame
        ``osm_id`` (relation id), ``admin_level``, ``name``, ``ref``, ``tags`` (dict),
        geometry in EPSG:4326. Relations cut by the extract's edge do not assemble and are
        left out.
    """
    path = Path(path)
    check_input_file(path, "OSM file", hint="check inputs.osm.path")
    admin = osmium.filter.TagFilter(("boundary", "administrative"))
    processor = (
        osmium.FileProcessor(str(path))
        .with_areas(admin)
        .with_filter(osmium.filter.EntityFilter(osmium.osm.AREA))
        .with_filter(admin)
    )
    wkb = osmium.geom.WKBFactory()
    rows = []
    try:
        for area in processor:
            # the entity filter passes areas only; the check tells the type checker
            if not isinstance(area, osmium.osm.Area) or area.from_way():
                continue
            tags = dict(area.tags)
            try:
                geom = shapely.from_wkb(wkb.create_multipolygon(area))
            except RuntimeError:
                continue
            level = tags.get("admin_level", "")
            rows.append(
                {
                    C.OSM_ID: int(area.orig_id()),
                    "admin_level": int(level) if level.isdigit() else None,
                    C.NAME: tags.get("name"),
                    "ref": tags.get("ref"),
                    "tags": tags,
                    "geometry": geom,
                }
            )
    except RuntimeError as err:
        raise data_error(path, f"cannot read OSM data ({err})") from None
    return gpd.GeoDataFrame(
        rows, columns=[C.OSM_ID, "admin_level", C.NAME, "ref", "tags", "geometry"], crs=4326
    )


def read_osm_boundaries(
    path: str | Path,
    *,
    county_name: str | None = None,
    county_osm_id: int | None = None,
    county_admin_level: int | None = None,
    township_admin_level: int = 8,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The county (by name in any language, or relation id) and its townships.

    Parameters
    ----------
    path
        OSM extract holding the boundary relations.
    county_name
        Matched against ``name``, ``name:*``, ``official_name`` ... case-insensitively.
    county_osm_id
        Relation id; wins over the name.
    county_admin_level
        Only consider relations at this level for the county.
    township_admin_level
        Level of the townships (8 in China; other countries differ).

    Returns
    -------
    county, townships
        As :func:`planner.ingest.boundaries.read_boundaries` returns them: townships
        with ``township_id`` (the ``ref`` tag, else ``r<relation id>``) and
        ``township_name``, both in EPSG:4326.
    """
    areas = read_admin_areas(path)
    if county_osm_id is not None:
        hit = areas[areas[C.OSM_ID] == county_osm_id]
        what = f"relation {county_osm_id}"
    elif county_name:
        key = county_name.strip().casefold()
        hit = areas[[key in _names(t) for t in areas["tags"]]]
        what = f"name {county_name!r}"
    else:
        msg = "give inputs.boundaries.county_name or county_osm_id to pick the county"
        raise data_error(path, msg)
    if county_admin_level is not None:
        hit = hit[hit["admin_level"] == county_admin_level]
    if len(hit) == 0:
        levels = sorted({int(v) for v in areas["admin_level"].dropna()})
        sample = ", ".join(sorted({str(n) for n in areas[C.NAME].dropna()})[:12])
        raise data_error(
            path,
            f"no complete administrative boundary with {what}",
            hint=f"levels present: {levels}; names include: {sample}",
        )
    if len(hit) > 1:
        options = "; ".join(
            f"r{r[C.OSM_ID]} level {r['admin_level']} {r[C.NAME]}" for _, r in hit.iterrows()
        )
        raise data_error(
            path,
            f"{len(hit)} boundaries match {what}: {options}",
            hint="set inputs.boundaries.county_osm_id or county_admin_level",
        )
    county_row = hit.iloc[0]
    county_geom = county_row.geometry
    shapely.prepare(county_geom)
    towns = areas[areas["admin_level"] == township_admin_level].copy()
    inside = shapely.contains(county_geom, towns.geometry.representative_point().to_numpy())
    towns = towns[inside]
    if len(towns) == 0:
        raise data_error(
            path,
            f"no admin_level={township_admin_level} boundaries inside {county_row[C.NAME]}",
            hint="set inputs.boundaries.township_admin_level",
        )
    ref = towns["ref"].where(towns["ref"].notna() & ~towns["ref"].duplicated(keep=False))
    towns[C.TOWNSHIP_ID] = ref.fillna("r" + towns[C.OSM_ID].astype(str)).to_numpy()
    towns[C.TOWNSHIP_NAME] = towns[C.NAME].fillna(towns[C.TOWNSHIP_ID]).to_numpy()
    towns = towns.drop(columns=["tags"]).sort_values(C.TOWNSHIP_ID).reset_index(drop=True)
    county = gpd.GeoDataFrame({C.NAME: [county_row[C.NAME]]}, geometry=[county_geom], crs=4326)
    logger.info(
        "OSM boundaries: %s (r%d) with %d townships at admin_level %d",
        county_row[C.NAME],
        county_row[C.OSM_ID],
        len(towns),
        township_admin_level,
    )
    return county, towns
