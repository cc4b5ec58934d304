"""GIS-team files: encodings, coordinate systems and the errors bad rows get."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.config import LineLayerInput, PointTableInput
from planner.errors import DataError
from planner.ingest.china import wgs84_to_gcj02
from planner.ingest.tables import read_lines, read_points
from planner.ingest.vector import read_layer, shapefile_encoding

NAMES = ["青溪供销超市", "石塘农贸市场", "河口加油站"]


def shapefile(path, *, encoding, cpg):
    gdf = gpd.GeoDataFrame(
        {"name": NAMES, "kind": ["超市", "市场", "加油站"]},
        geometry=[shapely.Point(117.3 + i / 100, 28.3) for i in range(3)],
        crs=4490,
    )
    gdf.to_file(path, encoding=encoding, engine="pyogrio")
    cpg_file = path.with_suffix(".cpg")
    if cpg is None:
        cpg_file.unlink(missing_ok=True)
    else:
        cpg_file.write_text(cpg)
    return path


@pytest.mark.parametrize(
    ("encoding", "cpg"),
    [("utf-8", "UTF-8"), ("utf-8", None), ("gbk", "GBK"), ("gbk", None), ("gbk", "936")],
)
def test_shapefile_encodings_read_without_mojibake(tmp_path, encoding, cpg):
    path = shapefile(tmp_path / "outlets.shp", encoding=encoding, cpg=cpg)
    gdf = read_layer(path)
    assert gdf["name"].tolist() == NAMES


def test_wrong_cpg_is_an_error_not_mojibake(tmp_path):
    path = shapefile(tmp_path / "outlets.shp", encoding="gbk", cpg="UTF-8")
    with pytest.raises(DataError, match=r"outlets\.shp: attribute text is not valid UTF-8"):
        read_layer(path)
    # the config can say what the file really is
    assert read_layer(path, encoding="gbk")["name"].tolist() == NAMES
    assert shapefile_encoding(path, "gbk") == "gbk"


def test_gb18030_only_characters_without_a_cpg_are_read_whole(tmp_path):
    """A name with a character GBK lacks (GB18030's extension) is read as GB18030, not
    garbled as GBK; a .cpg that says GBK over it names GB18030 in its error."""
    names = ["𬌗口镇", *NAMES[1:]]
    gdf = gpd.GeoDataFrame(
        {"name": names}, geometry=[shapely.Point(117.3, 28.3)] * len(names), crs=4490
    )
    path = tmp_path / "towns.shp"
    gdf.to_file(path, encoding="gb18030", engine="pyogrio")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    assert shapefile_encoding(path) == "gb18030"
    assert read_layer(path)["name"].tolist() == names
    path.with_suffix(".cpg").write_text("GBK")
    with pytest.raises(DataError, match="it reads as GB18030, GBK's superset"):
        read_layer(path)
    # plain GBK text keeps the common name
    plain = shapefile(tmp_path / "plain.shp", encoding="gbk", cpg=None)
    assert shapefile_encoding(plain) == "gbk"


def write_csv(path, rows, *, encoding="utf-8", header=("名称", "经度", "纬度", "类别")):
    pd.DataFrame(rows, columns=list(header)).to_csv(path, index=False, encoding=encoding)
    return path


def spec(path, **kw):
    return PointTableInput(path=path, lon_field="经度", lat_field="纬度", name_field="名称", **kw)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings(tmp_path, encoding):
    rows = [[n, 117.3 + i / 100, 28.3, "超市"] for i, n in enumerate(NAMES)]
    path = write_csv(tmp_path / "o.csv", rows, encoding=encoding)
    gdf = read_points(spec(path), role="outlets")
    assert gdf["name"].tolist() == NAMES
    assert gdf.crs.to_epsg() == 4326
    assert gdf["source"].tolist() == ["o.csv#2", "o.csv#3", "o.csv#4"]  # the header is row 1


def test_gcj02_and_bd09_tables_are_converted(tmp_path):
    lon = np.array([117.30, 117.35, 117.41])
    lat = np.array([28.30, 28.28, 28.35])
    glon, glat = wgs84_to_gcj02(lon, lat)
    rows = [[n, x, y, "充电站"] for n, x, y in zip(NAMES, glon, glat, strict=True)]
    path = write_csv(tmp_path / "chargers.csv", rows, encoding="gbk")
    gdf = read_points(spec(path, crs="gcj02"), role="chargers")
    assert gdf.geometry.x.to_numpy() == pytest.approx(lon, abs=1e-8)
    assert gdf.geometry.y.to_numpy() == pytest.approx(lat, abs=1e-8)
    # the same table read as if it were WGS84 is off by hundreds of metres
    raw = read_points(spec(path), role="chargers").to_crs(4548)
    good = gdf.to_crs(4548)
    assert (raw.distance(good) > 100).all()


def test_xlsx_sheet(tmp_path):
    path = tmp_path / "outlets.xlsx"
    rows = [[n, 117.3 + i / 100, 28.3, "超市"] for i, n in enumerate(NAMES)]
    pd.DataFrame(rows, columns=["名称", "经度", "纬度", "类别"]).to_excel(
        path, sheet_name="网点", index=False
    )
    gdf = read_points(spec(path, layer="网点"), role="outlets")
    assert gdf["name"].tolist() == NAMES
    with pytest.raises(DataError, match=r"cannot read sheet 'Sheet9' .*sheets are: 网点"):
        read_points(spec(path, layer="Sheet9"), role="outlets")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        (
            [["a", "117.3", "28.3", "x"], ["b", "东经117", "28.3", "x"]],
            r"field '经度', row 3: not a number: '东经117'",
        ),
        ([["a", "", "28.3", "x"]], r"field '经度', row 2: blank"),
        ([["a", "28.3", "117.3", "x"]], r"row 2: coordinates out of range.*swapped"),
        (
            [["a", "39500000", "3130000", "x"]],
            r"out of range.*Gauss-Kruger zone 39 with the zone prefix \(EPSG:4527\)",
        ),
        ([["a", "0", "0", "x"]], r"coordinates are \(0, 0\) in 1 rows"),
    ],
)
def test_bad_coordinates(tmp_path, rows, message):
    path = write_csv(tmp_path / "bad.csv", rows)
    with pytest.raises(DataError, match=message):
        read_points(spec(path), role="outlets")


def test_missing_column_and_bad_crs(tmp_path):
    path = write_csv(tmp_path / "o.csv", [["a", "117.3", "28.3", "x"]])
    with pytest.raises(DataError, match=r"field 'lon': column not found \(columns are: 名称"):
        read_points(PointTableInput(path=path), role="outlets")
    with pytest.raises(DataError, match="is not a CRS"):
        read_points(spec(path, crs="EPSG:99999"), role="outlets")
    with pytest.raises(DataError, match="outlets file not found"):
        read_points(spec(tmp_path / "none.csv"), role="outlets")


def test_gk_table_with_its_crs(tmp_path):
    # CGCS2000 GK zone 39 with prefix: metres, read with the right EPSG code
    path = write_csv(tmp_path / "gk.csv", [["a", "39530000", "3131000", "x"]])
    gdf = read_points(spec(path, crs="EPSG:4527"), role="outlets")
    assert 117.2 < gdf.geometry.x.iloc[0] < 117.5 and 28.2 < gdf.geometry.y.iloc[0] < 28.4


def test_grid_lines(tmp_path):
    path = tmp_path / "feeders.gpkg"
    gpd.GeoDataFrame(
        {"电压": [10, 35]},
        geometry=[
            shapely.LineString([(117.3, 28.3), (117.4, 28.3)]),
            shapely.LineString([(117.3, 28.4), (117.4, 28.4)]),
        ],
        crs=4490,
    ).to_file(path)
    lines = read_lines(LineLayerInput(path=path, voltage_field="电压"))
    assert lines["power"].tolist() == ["minor_line", "line"]
    assert lines["voltage_kv"].tolist() == [10, 35]


def test_multi_part_grid_lines_are_exploded(tmp_path):
    path = tmp_path / "feeders.gpkg"
    multi = shapely.MultiLineString(
        [[(117.3, 28.3), (117.4, 28.3)], [(117.5, 28.3), (117.6, 28.3)]]
    )
    gpd.GeoDataFrame({"kv": [10]}, geometry=[multi], crs=4490).to_file(path)
    lines = read_lines(LineLayerInput(path=path, voltage_field="kv"))
    assert len(lines) == 2 and (lines.geom_type == "LineString").all()


def test_a_name_field_the_config_names_must_be_there(tmp_path):
    """A misspelt name_field is an error naming it; the default 'name' may be absent."""
    rows = [[n, 117.3 + i / 100, 28.3, "超市"] for i, n in enumerate(NAMES)]
    path = write_csv(tmp_path / "o.csv", rows)
    with pytest.raises(DataError, match=r"field '站名': column not found \(columns are: 名称"):
        read_points(
            PointTableInput(path=path, lon_field="经度", lat_field="纬度", name_field="站名"),
            role="chargers",
        )
    plain = PointTableInput(path=path, lon_field="经度", lat_field="纬度")  # name: default
    assert read_points(plain, role="chargers")["name"].isna().all()
