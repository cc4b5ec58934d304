from pathlib import Path

import pytest
import yaml

from planner.config import apply_overrides, load_config
from planner.errors import ConfigError

MINIMAL = {
    "county": {"name": "测试县"},
    "inputs": {
        "boundaries": {"path": "b.gpkg"},
        "osm": {"path": "roads.osm.pbf"},
        "population": {"path": "pop.tif"},
    },
    "stations": {"max_stations": 5},
}


def write(tmp_path: Path, data: dict, name: str = "test-county.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def test_defaults_and_relative_paths(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.slug == "ceshixian-test-county"  # the name in pinyin and the file name
    assert cfg.inputs.osm.path == (tmp_path / "roads.osm.pbf").resolve()
    assert cfg.solver.name == "highs"
    assert cfg.stations.cutoff_min == 15
    assert cfg.demand.ev_adoption == pytest.approx(0.10)


def test_unknown_key_is_an_error(tmp_path):
    data = {**MINIMAL, "stations": {"max_stations": 5, "max_station": 4}}
    with pytest.raises(ConfigError, match=r"unknown key 'stations.max_station'") as err:
        load_config(write(tmp_path, data))
    assert "(did you mean 'max_stations'?)" in str(err.value)


def test_an_unknown_section_set_on_the_command_line_says_so(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key 'nosuch'") as err:
        load_config(write(tmp_path, MINIMAL), overrides=["nosuch.x=1"])
    assert str(err.value).endswith("(set by --set: nosuch.x)")
    # a section the file has wrong is the file's, not the override's
    with pytest.raises(ConfigError, match=r"unknown key 'report_'") as err:
        load_config(write(tmp_path, {**MINIMAL, "report_": {}}), overrides=["report.document=0"])
    assert "set by --set" not in str(err.value)


def test_wrong_type_names_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"'stations.cutoff_min'.*got 'soon'") as err:
        load_config(write(tmp_path, MINIMAL), overrides=["stations.cutoff_min=soon"])
    assert str(err.value).endswith("(set by --set: stations.cutoff_min)")
    # a number must be finite, whatever the field
    with pytest.raises(ConfigError, match=r"'stations.cutoff_min'.*finite"):
        load_config(write(tmp_path, MINIMAL), overrides=["stations.cutoff_min=.inf"])
    with pytest.raises(ConfigError) as err:  # an error the overrides did not cause
        load_config(write(tmp_path, {**MINIMAL, "stations": {"cutoff_min": "x"}}))
    assert "set by" not in str(err.value)


def test_stations_need_a_limit(tmp_path):
    data = {**MINIMAL, "stations": {}}
    with pytest.raises(ConfigError, match="max_stations or budget"):
        load_config(write(tmp_path, data))


def test_overrides_parse_yaml_values(tmp_path):
    cfg = load_config(
        write(tmp_path, MINIMAL),
        overrides=["stations.budget=8e6", "solver.name=cbc", "stations.township_min=false"],
    )
    assert cfg.stations.budget == 8e6
    assert cfg.solver.name == "cbc"
    assert cfg.stations.township_min is False


def test_override_needs_key_value():
    with pytest.raises(ConfigError, match="expected key=value"):
        apply_overrides({}, ["stations.budget"])


def test_bad_yaml_and_missing_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("county: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(p)
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "nope.yaml")


def test_solver_name_is_checked(tmp_path):
    with pytest.raises(ConfigError, match=r"'solver\.name'"):
        load_config(write(tmp_path, MINIMAL), overrides=["solver.name=gurobi"])


def test_report_section(tmp_path):
    cfg = load_config(write(tmp_path, MINIMAL))
    assert cfg.report.formats == ["gpkg", "csv"] and cfg.report.extra_crs == []
    assert cfg.report.shapefile_encoding == "utf-8" and cfg.report.document is True
    cfg = load_config(
        write(tmp_path, MINIMAL),
        overrides=[
            "report.formats=[shp, kml]",
            "report.extra_crs=[gk, 4490, 'EPSG:4548']",
            "report.shapefile_encoding=gbk",
        ],
    )
    assert cfg.report.formats == ["shp", "kml"] and cfg.report.shapefile_encoding == "gbk"
    assert cfg.report.extra_crs == ["gk", "4490", "EPSG:4548"]
    for bad, where in [
        ("report.formats=[dxf]", "'report.formats.0'"),
        ("report.shapefile_encoding=latin1", "'report.shapefile_encoding'"),
        ("report.extra_crs=[GK9]", "'report.extra_crs'"),
    ]:
        with pytest.raises(ConfigError, match=where):
            load_config(write(tmp_path, MINIMAL), overrides=[bad])


def test_a_time_in_an_error_is_shown_as_typed(tmp_path):
    """YAML 1.1 reads 25:00 as 1500 and 16:30 as 990: the config reads them as text."""
    path = write(tmp_path, MINIMAL)
    with pytest.raises(ConfigError) as err:
        load_config(path, overrides=["tours.shift_end=25:00"])
    assert "'tours.shift_end': a time of day is HH:MM (e.g. 08:00), got '25:00'" in str(err.value)
    assert "1500" not in str(err.value) and str(err.value).count("25:00") == 1
    # a check of the whole section names the time, and does not echo the section
    with pytest.raises(ConfigError) as err:
        load_config(path, overrides=["tours.enabled=true", "tours.lunch_start=16:30"])
    assert "the lunch break 16:30 + 60 min is not inside the shift 08:00-17:00" in str(err.value)
    assert "990" not in str(err.value) and "{" not in str(err.value)
    # in the file too, and in a time window
    data = {**MINIMAL, "tours": {"villages": {"time_window": ["08:00", "25:00"]}}}
    text = yaml.safe_dump(data, allow_unicode=True).replace("'08:00'", "08:00")
    (tmp_path / "file.yaml").write_text(text.replace("'25:00'", "25:00"), encoding="utf-8")
    assert "25:00\n" in (tmp_path / "file.yaml").read_text(encoding="utf-8")  # unquoted
    with pytest.raises(ConfigError, match=r"time_window': a time of day .* got '25:00'$"):
        load_config(tmp_path / "file.yaml")


def test_times_are_read_as_text_and_written_hh_mm(tmp_path):
    from planner.config import config_from_dict
    from planner.config.load import read_yaml

    assert read_yaml("a: 16:30\nb: 8:30\nc: 1500\nd: 1:30:00") == {
        "a": "16:30", "b": "8:30", "c": 1500, "d": "1:30:00"
    }  # fmt: skip
    cfg = load_config(
        write(tmp_path, MINIMAL),
        overrides=["tours.shift_start=7:30", "tours.lunch_start=12:00", "tours.shift_end=16:30"],
    )
    assert (cfg.tours.shift_start, cfg.tours.lunch_start, cfg.tours.shift_end) == (
        "07:30", "12:00", "16:30"
    )  # fmt: skip
    # a number from another YAML reader (a batch file's set:) is the time it was typed as
    raw = {**MINIMAL, "tours": {"shift_end": 1500}}
    with pytest.raises(ConfigError, match=r"got '25:00'$"):
        config_from_dict(raw, base_dir=tmp_path)
    raw = {**MINIMAL, "tours": {"lunch_start": 750}}
    assert config_from_dict(raw, base_dir=tmp_path).tours.lunch_start == "12:30"


def test_an_error_names_where_the_override_came_from(tmp_path):
    path = write(tmp_path, MINIMAL)
    # rollout: a year's budget (its own label), after the user's --set
    with pytest.raises(ConfigError) as err:
        load_config(
            path,
            overrides=["stations.cutoff_min=20", "stations.budget=0.0", "repair.enabled=false"],
            overrides_from=["--set", "--year 2026", "--year 2026"],
        )
    assert str(err.value).endswith(
        "'stations.budget': Input should be greater than 0 (got 0.0) (set by --year 2026: "
        "stations.budget)"
    )
    # sweep: a misspelt field varied, one name for all the overrides
    with pytest.raises(ConfigError, match=r"unknown key 'stations.budgt'") as err:
        load_config(path, overrides=["stations.budgt=8e6"], overrides_from="--vary")
    assert str(err.value).endswith("(set by --vary: stations.budgt)")
    # a key set twice is blamed on the last source (its value won); two sources, both named
    with pytest.raises(ConfigError) as err:
        load_config(
            path,
            overrides=["stations.budget=5e6", "stations.cutoff_min=soon", "stations.budget=0"],
            overrides_from=["--set", "--set", "--year 2026"],
        )
    assert str(err.value).endswith(
        "(set by --year 2026: stations.budget; --set: stations.cutoff_min)"
    )
    # the default is --set; a malformed override names its source too
    with pytest.raises(ConfigError, match=r"\(set by --set: stations.budget\)$"):
        load_config(path, overrides=["stations.budget=0"])
    with pytest.raises(ConfigError, match=r"^--vary 'stations.budget': expected key=value"):
        load_config(path, overrides=["stations.budget"], overrides_from="--vary")
    with pytest.raises(ValueError, match="1 sources for 2 overrides"):
        load_config(path, overrides=["a.b=1", "c.d=2"], overrides_from=["--set"])
