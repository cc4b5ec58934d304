"""Tables from GIS and grid teams: Excel headroom, units in counts, ids, stray spaces."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner import columns as C
from planner.config import PointTableInput
from planner.errors import DataError
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
        DataError, match=r"field 'substation_id', row 3: substation id is blank \(1 rows"
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
        "field '枪数': 2 values are not a count of charging points (c.csv#5 '7kW', "
        "c.csv#7 '1.5'): each such charger is counted as 1" in caplog.text
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
