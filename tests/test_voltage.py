"""Voltages as grid teams write them (planner.ingest.voltage)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.ingest.voltage import voltage_kv


@pytest.mark.parametrize(
    ("value", "kv"),
    [
        (10, 10.0),
        (10.5, 10.5),
        (35000, 35.0),  # volts
        ("10kV", 10.0),
        ("35 KV", 35.0),
        ("10千伏", 10.0),
        ("10000V", 10.0),
        ("380伏", 0.38),
        ("10000", 10.0),
        ("110/35/10", 110.0),
        ("110kV;10kV", 110.0),
        (None, np.nan),
        ("", np.nan),
        ("高压", np.nan),
        ("10kV?", np.nan),
    ],
)
def test_each_way_of_writing_a_voltage(value, kv):
    out = voltage_kv(pd.Series([value], dtype=object), where="lines.gpkg")
    assert out.iloc[0] == pytest.approx(kv, nan_ok=True)


def test_unreadable_voltages_are_counted_with_an_example(caplog):
    values = pd.Series(["10kV", "高压", "高压", None, "35kV"], dtype=object)
    with caplog.at_level("WARNING"):
        out = voltage_kv(values, where="lines.gpkg, field 'dy'")
    assert out.tolist()[0] == 10 and out.tolist()[4] == 35
    assert "lines.gpkg, field 'dy': 2 voltages are not a number of kV or volts (e.g. '高压')" in (
        caplog.text
    )


def test_a_text_35kv_line_is_not_a_10kv_tap(tmp_path):
    """The grid review's case: "35kV" in a text field became NaN, i.e. a 10 kV tap."""
    import geopandas as gpd
    import shapely

    from planner.candidates import is_medium_voltage
    from planner.config import LineLayerInput
    from planner.ingest.tables import read_lines

    path = tmp_path / "lines.gpkg"
    gpd.GeoDataFrame(
        {"dy": ["10kV", "35kV", "10000"]},
        geometry=[shapely.LineString([(116, 39), (116.1, 39)])] * 3,
        crs=4326,
    ).to_file(path)
    lines = read_lines(LineLayerInput(path=path, voltage_field="dy"))
    assert lines["voltage_kv"].tolist() == [10.0, 35.0, 10.0]
    assert is_medium_voltage(lines["power"], lines["voltage_kv"]).tolist() == [True, False, True]
