"""Tables from GIS and grid teams: Excel headroom, units in counts, ids, stray spaces."""

from __future__ import annotations

import logging
import shutil

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely

from planner import columns as C
from planner.config import PointTableInput, load_config
from planner.errors import DataError
from planner.ingest.county import load_county
from planner.ingest.grid import join_headroom_nearest, read_substation_table
from planner.ingest.points import as_chargers
from planner.ingest.tables import read_points
from planner.optimize.diagnose import station_problems
from tests.test_diagnose import _config, _sites

HEADROOM = pd.DataFrame(
    {
        "substation_id": ["QX-35-01", "QX-35-02"],
        "rated_kva": ["10000", "6300"],
        "peak_load_kw": ["8700", "4793"],
    }
)
FIELDS = {"id_field": "substation_id", "rated_kva_field": "rated_kva"}


def _read(path):
    return read_substation_table(path, **FIELDS, peak_load_kw_field="peak_load_kw")


def test_an_excel_headroom_table_reads_as_its_csv(tmp_path):
    HEADROOM.to_csv(tmp_path / "s.csv", index=False)
    HEADROOM.to_excel(tmp_path / "s.xlsx", index=False)
    pd.testing.assert_frame_equal(_read(tmp_path / "s.xlsx"), _read(tmp_path / "s.csv"))
    assert _read(tmp_path / "s.xlsx")[C.RATED_KVA].tolist() == [10000, 6300]


def test_an_excel_workbook_named_csv_is_told_so(tmp_path):
    HEADROOM.to_excel(tmp_path / "s.xlsx", index=False)
    (tmp_path / "s.xlsx").rename(tmp_path / "s.csv")
    with pytest.raises(DataError, match=r"s.csv: this is an Excel workbook, not a CSV \(name"):
        _read(tmp_path / "s.csv")


def test_a_blank_substation_id_names_its_row(tmp_path):
    HEADROOM.assign(substation_id=["QX-35-01", " "]).to_csv(tmp_path / "s.csv", index=False)
    with pytest.raises(
        DataError, match=r"field 'substation_id', row 3: substation id is blank \(give"
    ):
        _read(tmp_path / "s.csv")


def test_a_column_with_spaces_is_pointed_out(tmp_path):
    HEADROOM.rename(columns={"peak_load_kw": " peak_load_kw"}).to_csv(tmp_path / "s.csv")
    with pytest.raises(DataError, match=r"the file has ' peak_load_kw': remove the spaces"):
        _read(tmp_path / "s.csv")


def test_missing_column_lists_the_files_columns_only(tmp_path):
    pd.DataFrame({"名称": ["甲"], "经度": ["117.2"], "纬度": ["28.3"], "枪 数": ["4"]}).to_csv(
        tmp_path / "c.csv", index=False
    )
    spec = PointTableInput(
        path=tmp_path / "c.csv", lon_field="经度", lat_field="纬度", sockets_field="枪数"
    )
    with pytest.raises(DataError) as err:
        as_chargers(read_points(spec, role="chargers"), spec)
    assert str(err.value).endswith(
        "field '枪数': column not found (columns are: 名称, 经度, 纬度, '枪 数')"
    )


def test_counts_with_units_are_counts(tmp_path, caplog):
    values = ["8个", "6 枪", "4", "2.0", "7kW", "", "1.5", "８个"]
    pd.DataFrame(
        {"经度": ["117.2"] * len(values), "纬度": ["28.3"] * len(values), "枪数": values}
    ).to_csv(tmp_path / "c.csv", index=False)
    spec = PointTableInput(
        path=tmp_path / "c.csv", lon_field="经度", lat_field="纬度", sockets_field="枪数"
    )
    with caplog.at_level(logging.WARNING):
        out = as_chargers(read_points(spec, role="chargers"), spec)
    assert out[C.SOCKETS].tolist()[:4] == [8, 6, 4, 2]
    assert np.isnan(out[C.SOCKETS].to_numpy()[4:7]).all()
    assert out[C.SOCKETS].iloc[7] == 8  # full-width digits
    assert (
        "field '枪数': 2 values are not a count of charging points (c.csv#6 '7kW', "
        "c.csv#8 '1.5'): each such charger is counted as 1" in caplog.text
    )


def test_two_rows_nearest_one_substation_both_keep_their_figures(caplog):
    subs = gpd.GeoDataFrame(
        {"osm_id": ["n1"], "ref": [None]}, geometry=[shapely.Point(117.30, 28.30)], crs=4326
    )
    table = gpd.GeoDataFrame(
        {
            "substation_id": ["A1b", "A1"],
            "rated_kva": [50000.0, 10000.0],
            "peak_load_kw": [100.0, 8700.0],
            "table_row": [2, 3],
        },
        # A1b 50 m east of the substation, A1 on it: A1 joins, A1b stands on its own
        geometry=[shapely.Point(117.3005, 28.30), shapely.Point(117.30, 28.30)],
        crs=4326,
    )
    with caplog.at_level(logging.WARNING):
        out = join_headroom_nearest(subs, table, 4548, max_distance_m=1000, label="s.csv")
    assert out["substation_id"].tolist() == ["A1", "A1b"]
    assert out["headroom_kw"].tolist() == pytest.approx([300, 44_900])
    assert out.geometry.x.tolist() == pytest.approx([117.30, 117.3005])
    assert "s.csv: row 2 lies within 1000 m of substations only that other rows" in caplog.text


def test_rows_offset_alike_pair_one_to_one_with_their_substations(caplog):
    # A and B 300 m apart; each row 500 m north-east of its substation (a GCJ-02 table read
    # as WGS84): both rows lie nearest B, but A's row belongs to A
    x0, y0 = 500_000.0, 3_100_000.0
    subs = gpd.GeoDataFrame(
        {"osm_id": ["A", "B"], "ref": ["A", "B"]},
        geometry=[shapely.Point(x0, y0), shapely.Point(x0 + 300, y0)],
        crs=4548,
    )
    table = gpd.GeoDataFrame(
        {
            "substation_id": ["A", "B"],
            "rated_kva": [10000.0, 20000.0],
            "peak_load_kw": [1000.0, 2000.0],
            "table_row": [2, 3],
        },
        geometry=[shapely.Point(x0 + 400, y0 + 300), shapely.Point(x0 + 700, y0 + 300)],
        crs=4548,
    )
    with caplog.at_level(logging.WARNING):
        out = join_headroom_nearest(subs, table, 4548, max_distance_m=1000, label="s.csv")
    assert out["substation_id"].tolist() == ["A", "B"]
    assert out["headroom_kw"].tolist() == pytest.approx([8000, 16000])
    assert "s.csv" not in caplog.text


def test_an_overloaded_substation_is_named_when_it_blocks_a_township(tmp_path):
    config = _config(tmp_path)
    sites = _sites([("T1", "A", -500, 0), ("T1", "B", 50, 0), ("T2", "C", 9e3, 0)])
    townships = pd.DataFrame({C.TOWNSHIP_ID: ["T1", "T2"], C.TOWNSHIP_NAME: ["一", "二"]})
    causes = station_problems(sites, townships, config)
    assert causes == [
        "in 1 townships every candidate is excluded or fed by a substation without headroom "
        "for 2 chargers: 一 (T1) (substations' headroom: A -500 kW, B 50 kW)"
    ]


def test_blank_rows_keep_ids_and_messages_on_the_files_rows(tmp_path):
    # a blank line after row 2: the next row is row 4 in Excel, in ids and in messages
    (tmp_path / "o.csv").write_text(
        "名称,经度,纬度\nA,117.2,28.3\n\nB,117.3,28.4\n,,\nC,x,28.5\n", encoding="utf-8"
    )
    spec = PointTableInput(path=tmp_path / "o.csv", lon_field="经度", lat_field="纬度")
    with pytest.raises(DataError, match=r"field '经度', row 6: not a number: 'x'"):
        read_points(spec, role="outlets")
    (tmp_path / "o.csv").write_text("名称,经度,纬度\nA,117.2,28.3\n\nB,117.3,28.4\n")
    got = read_points(spec, role="outlets")
    assert got[C.SOURCE].tolist() == ["o.csv#2", "o.csv#4"]


def test_an_excel_blank_row_keeps_the_row_numbers(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    for row in (["名称", "经度", "纬度"], ["A", 117.2, 28.3], [], ["B", 117.3, "bad"]):
        sheet.append(row)
    book.save(tmp_path / "o.xlsx")
    spec = PointTableInput(path=tmp_path / "o.xlsx", lon_field="经度", lat_field="纬度")
    with pytest.raises(DataError, match=r"field '纬度', row 4: not a number: 'bad'"):
        read_points(spec, role="outlets")


def _titled_workbook(path):
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes.append(["清溪县变电站负荷表（2026年）"])
    for row in [list(HEADROOM.columns), *HEADROOM.to_numpy().tolist()]:
        notes.append(row)
    data = book.create_sheet("负荷")
    for row in [list(HEADROOM.columns), *HEADROOM.to_numpy().tolist()]:
        data.append(row)
    book.save(path)


def test_a_title_above_the_header_is_named(tmp_path):
    _titled_workbook(tmp_path / "s.xlsx")
    with pytest.raises(DataError, match=r"column names are on row 2, under a title"):
        _read(tmp_path / "s.xlsx")


def test_the_headroom_sheet_is_chosen_by_name(tmp_path):
    _titled_workbook(tmp_path / "s.xlsx")
    got = read_substation_table(
        tmp_path / "s.xlsx", **FIELDS, peak_load_kw_field="peak_load_kw", sheet="负荷"
    )
    assert got[C.RATED_KVA].tolist() == [10000, 6300]
    with pytest.raises(DataError, match=r"s.xlsx: cannot read sheet 'x' .*sheets are: 说明, 负荷"):
        read_substation_table(
            tmp_path / "s.xlsx", **FIELDS, peak_load_kw_field="peak_load_kw", sheet="x"
        )


def test_points_the_crs_cannot_hold_are_an_error_with_their_values(tmp_path):
    # zone-prefixed Gauss-Kruger metres declared as the zone without prefix
    (tmp_path / "p.csv").write_text("x,y\n39500000,3100000\n39500100,3100100\n")
    spec = PointTableInput(path=tmp_path / "p.csv", lon_field="x", lat_field="y", crs="EPSG:4549")
    with pytest.raises(DataError) as err:
        read_points(spec, role="outlets")
    assert "row 2: 2 of 2 points cannot be in crs 'EPSG:4549': the first, (39500000, 3100000)" in (
        str(err.value)
    )
    assert "zone 39 with the zone prefix (EPSG:4527)" in str(err.value)


def test_a_county_reads_its_headroom_from_the_sheet_named_in_the_config(small, tmp_path):
    shutil.copytree(small.parent, tmp_path / "in")
    cfg = tmp_path / "in" / small.name
    table = pd.read_csv(cfg.parent / "qingxi_substations.csv", dtype=str)
    with pd.ExcelWriter(cfg.parent / "负荷.xlsx") as book:
        pd.DataFrame({"说明": ["清溪县变电站负荷表"]}).to_excel(
            book, sheet_name="说明", index=False
        )
        table.to_excel(book, sheet_name="负荷", index=False)
    sets = ["inputs.substations.path=负荷.xlsx", "inputs.substations.layer=负荷"]
    county = load_county(load_config(cfg, overrides=sets))
    by_csv = load_county(load_config(cfg))
    got = county.substations.set_index(C.SUBSTATION_ID)[C.HEADROOM_KW].dropna()
    want = by_csv.substations.set_index(C.SUBSTATION_ID)[C.HEADROOM_KW].dropna()
    assert len(want) == len(table)
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index())


def _merged_header_workbook(path, *, rows_above: int) -> None:
    """Operator chargers under a two-row header: 坐标 merged over 经度 and 纬度, the other
    names merged down two rows (``rows_above``: 0 keeps both header rows, 1 is the file
    after the user deleted the first)."""
    book = openpyxl.Workbook()
    sheet = book.active
    top = ["名称", "运营商", "坐标", None, "枪数"]
    below = [None, None, "经度", "纬度", None]
    for row in [top, below][rows_above:]:
        sheet.append(row)
    if rows_above == 0:
        for col in "ABE":
            sheet.merge_cells(f"{col}1:{col}2")
        sheet.merge_cells("C1:D1")
    sheet.append(["石塘镇充电站", "小桔充电", 117.232071, 28.175103, 4])
    book.save(path)


def test_a_header_over_two_merged_rows_is_named_so(tmp_path):
    path = tmp_path / "c.xlsx"
    spec = PointTableInput(
        path=path, lon_field="经度", lat_field="纬度", name_field="名称",
        operator_field="运营商", sockets_field="枪数",
    )  # fmt: skip
    _merged_header_workbook(path, rows_above=0)
    with pytest.raises(DataError, match=r"split over rows 1 and 2 \(merged header cells\?\)"):
        read_points(spec, role="chargers")
    _merged_header_workbook(path, rows_above=1)
    with pytest.raises(DataError) as err:
        read_points(spec, role="chargers")
    assert "field '运营商': column not found" in str(err.value)
    assert "3 columns without a name in row 1 (blank or merged header cells)" in str(err.value)
