"""report.html, report.md and map.png of a run, and the builders behind them."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from planner.config import load_config
from planner.i18n import translator
from planner.report import fonts, static_map
from planner.report.dictionary import data_dictionary
from planner.report.document import build_html, build_markdown, write_document
from planner.report.export import export_crss, run_dictionary
from planner.report.reexport import read_run_layers

CURVE = [
    {"budget": 8e6, "stations": 9, "chargers": 50, "capex": 7.9e6, "covered_share": 0.61,
     "status": "optimal", "gap": 0.001},
    {"budget": 12e6, "stations": 12, "chargers": 80, "capex": 11.8e6, "covered_share": 0.8,
     "status": "optimal", "gap": 0.004},
    {"budget": 16e6, "stations": 15, "chargers": 110, "capex": 15.99e6, "covered_share": 0.92,
     "status": "time_limit", "gap": 0.02},
]  # fmt: skip


@pytest.fixture(scope="module")
def layers(demo_run):
    return read_run_layers(demo_run)


@pytest.fixture(scope="module")
def run(demo_run, demo_config, layers, tmp_path_factory):
    """The demo run's report written again in English, beside the run's data dictionary."""
    summary = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("report_en")
    shutil.copy(demo_run / "data_dictionary.csv", out)
    cfg = load_config(demo_config)
    # the dictionary the pipeline gives the report (data_dictionary.csv is in the run's language)
    d = run_dictionary(
        layers,
        pd.read_csv(demo_run / "assignments.csv"),
        formats=cfg.report.formats,
        extra_crs=export_crss(cfg.report.extra_crs, layers["townships"]),
    )
    write_document(out, summary, layers, d, config=cfg, lang=translator("en"))
    page = (out / "report.html").read_text(encoding="utf-8")
    return out, summary, page


@pytest.fixture
def no_cjk_font(monkeypatch):
    """No font with Chinese glyphs, whatever the machine has; the font cache is reset."""
    fonts.chinese_font.cache_clear()
    monkeypatch.setattr(fonts, "_fontconfig_zh", list)
    monkeypatch.setattr(fonts, "CJK_FAMILIES", ())
    yield
    fonts.chinese_font.cache_clear()


def figure(page: str, key: str) -> str:
    m = re.search(rf'<td id="fig-{key}">([^<]*)</td>', page)
    assert m, key
    return m.group(1)


def number(text: str) -> float:
    return float(text.replace(",", "").rstrip("%"))


def test_report_files(demo_run):
    names = {p.name for p in demo_run.iterdir()}
    assert {"report.html", "report.md", "map.png"} <= names
    assert "coverage_curve.png" not in names  # the run computed no curve


def test_key_figures_match_the_summary(run):
    _, s, page = run
    for key in ("stations", "chargers", "repair_points", "capex_total", "capex_stations"):
        assert number(figure(page, key)) == s[key], key
    assert number(figure(page, "demand_covered_share")) == pytest.approx(
        100 * s["demand_covered_share"], abs=0.05
    )
    assert number(figure(page, "mean_travel_min")) == pytest.approx(s["mean_travel_min"], abs=0.05)
    assert number(figure(page, "max_travel_min")) == pytest.approx(s["max_travel_min"], abs=0.05)
    assert number(figure(page, "gap")) == pytest.approx(100 * s["gap"], abs=0.005)
    assert figure(page, "status") == "HiGHS: optimal (gap proved)" and s["status"] == "optimal"
    assert figure(page, "county") == s["county"]
    assert number(figure(page, "existing_chargers")) == s["existing_chargers"]
    assert figure(page, "townships_with_station") == (
        f"{s['townships_with_station']} of {s['townships_total']}"
    )
    assert '<html lang="en">' in page and "County" in page


def test_existing_chargers_are_listed_with_what_they_serve(run, layers):
    """The existing chargers the plan counts on: each with its township and sessions, the
    sum the key figure gives; with the assignments they reconcile the sessions covered."""
    _, s, page = run
    ex = layers["existing_chargers"].sort_values("station_id")
    assert len(ex) == s["existing_chargers"] > 0
    assert ex["sessions_served"].sum() == pytest.approx(s["existing_sessions_served_day"], abs=0.01)
    assert number(figure(page, "existing_sessions_served_day")) == pytest.approx(
        s["existing_sessions_served_day"], abs=0.05
    )
    rows = re.findall(r'<tr class="existing">(.*?)</tr>', page)
    assert len(rows) == len(ex)
    for row, (_, e) in zip(rows, ex.iterrows(), strict=True):
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        assert cells[0] == e["station_id"] and cells[3] == e["township_name"]
        assert number(cells[5]) == pytest.approx(e["sessions_served"], abs=0.05)
    towns = layers["townships"].set_index("township_id")["existing_sites"]
    assert (ex.groupby("township_id").size() == towns[towns > 0]).all()


def test_township_table(run, layers):
    _, s, page = run
    rows = re.findall(r'<tr class="township">(.*?)</tr>', page)
    assert len(rows) == s["townships_total"] == len(layers["townships"])
    towns = layers["townships"].sort_values("township_id")
    for row, (_, t) in zip(rows, towns.iterrows(), strict=True):
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        assert cells[0] == t["township_name"] and cells[1] == t["township_id"]
        assert number(cells[2]) == round(t["population"])
        assert int(cells[6]) == t["stations"] and int(cells[7]) == t["chargers"]
        assert int(cells[8]) == t["existing_sites"]
        assert number(cells[5]) == pytest.approx(100 * t["covered_share"], abs=0.1)
        if t["covered_share"] < 1:  # never rounded up to full coverage
            assert number(cells[5]) < 100
        if t["points_unreached"]:
            assert (
                cells[10].startswith("&gt; 15 (")
                and f"{t['points_unreached']} demand points" in cells[10]
            )
        else:
            assert number(cells[10]) == pytest.approx(t["worst_station_min"], abs=0.05)


def test_the_assignments_rebuild_the_station_loads_and_join_every_station(layers, demo_run):
    """A GIS user sums the assignments' sessions by station_id: the stations' loads, and
    every id is one of the stations or of the existing chargers (e000...)."""
    a = pd.read_csv(demo_run / "assignments.csv", encoding="utf-8-sig")
    d = layers["demand"].set_index("demand_id")
    expected = (a["covered_share"] * a["demand_id"].map(d["sessions_day"])).round(4)
    np.testing.assert_allclose(a["sessions_served"], expected, atol=1e-9)
    load = a.groupby("station_id")["sessions_served"].sum()
    st = layers["stations"].set_index("candidate_id")["sessions_served"]
    np.testing.assert_allclose(load.reindex(st.index, fill_value=0.0), st, atol=1e-2)
    known = set(st.index) | set(layers["existing_chargers"]["station_id"])
    assert set(a["station_id"]) <= known
    assert set(layers["demand"]["station_id"].dropna()) <= known


def test_township_drive_times_agree_with_the_assignments(layers, demo_run):
    d, t = layers["demand"], layers["townships"].set_index("township_id")
    a = pd.read_csv(demo_run / "assignments.csv", encoding="utf-8-sig")
    lived = d[d["population"] > 0]
    a = a.merge(lived[["demand_id", "township_id", "sessions_day"]], on="demand_id")
    a["served"] = a["sessions_day"] * a["covered_share"]
    for tid, g in lived.groupby("township_id"):
        reach = g[g["nearest_station_min"].notna()]
        assert t.loc[tid, "points_unreached"] == len(g) - len(reach)
        ga = a[(a["township_id"] == tid) & (a["served"] > 0)]
        assert t.loc[tid, "worst_station_min"] == pytest.approx(ga["minutes"].max())
        mean = (ga["served"] * ga["minutes"]).sum() / ga["served"].sum()
        assert t.loc[tid, "mean_station_min"] == pytest.approx(mean)
        # the assignment never beats the nearest open station (same sessions weighed)
        w = reach["sessions_day"] * reach["covered_share"]
        near = (w * reach["nearest_station_min"]).sum() / w.sum()
        assert near <= t.loc[tid, "mean_station_min"] + 1e-6
        assert t.loc[tid, "mean_station_min"] <= t.loc[tid, "worst_station_min"] + 1e-9


def test_report_is_self_contained_with_a_real_picture(run):
    out, _, page = run
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<script" not in page and "<link" not in page and "@import" not in page
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert len(srcs) == 1 and srcs[0].startswith("data:image/png;base64,")
    png = base64.b64decode(srcs[0].split(",", 1)[1])
    assert png == (out / "map.png").read_bytes()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width >= 800 and image.height >= 500
    assert 30_000 < len(png) < 3_000_000
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 50  # not a blank


def test_data_dictionary_is_in_the_report(run):
    out, _, page = run
    from planner.report.dictionary import read_data_dictionary

    d, lang = read_data_dictionary(out / "data_dictionary.csv")  # in the run's language
    cell = r"<td[^>]*>([^<]*)</td>"
    rows = re.findall(rf'<tr class="column">{cell}{cell}{cell}', page)
    assert [r[0] for r in rows] == d["column"].tolist()
    import html

    assert [lang.unit(html.unescape(r[2])) for r in rows] == d["unit"].tolist()
    md = (out / "report.md").read_text(encoding="utf-8")
    assert re.search(r"^## Appendix [A-Z]: Data dictionary$", md, re.M) and "near\\_st\\_mn" in md


def test_malicious_names_are_escaped(layers):
    evil = '<script>alert("x")</script>'
    towns = layers["townships"].copy()
    towns.loc[towns.index[0], "township_name"] = evil
    summary = {"county": '"><img src=x onerror=alert(1)>', "stations": 1, "status": "optimal"}
    page = build_html(summary, towns, data_dictionary({"townships": towns}))
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    md = build_markdown(summary, towns, data_dictionary({"townships": towns}))
    assert "<script>" not in md and "<img" not in md
    assert '&lt;script&gt;alert\\("x"\\)&lt;/script&gt;' in md


def test_curve_table_with_repair_points_and_an_infeasible_budget():
    from planner.report.charts import plot_coverage_curve
    from planner.report.document import curve_table

    points = [
        {"budget": 4e6, "status": "infeasible", "pareto": False},
        *({**p, "repair_points": 5} for p in CURVE),
    ]
    t = curve_table(points)
    assert list(t.columns)[3] == "Repair points" and len(t) == 4
    assert t.iloc[0].tolist()[1:6] == ["n/a", "n/a", "n/a", "n/a", "n/a"]
    assert t.iloc[0]["Status"] == "infeasible"
    ax = plot_coverage_curve(points).axes[0]
    assert [len(line.get_xdata()) for line in ax.lines] == [3, 1]  # solved, infeasible


def test_coverage_curve_when_present(tmp_path, layers, run):
    _, s, page = run
    assert "Coverage against budget" not in page
    summary = {**s, "coverage_curve": CURVE}
    d = data_dictionary(layers)
    files = write_document(tmp_path, summary, layers, d, lang=translator("en"))
    assert files == ["map.png", "coverage_curve.png", "report.html", "report.md"]
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    rows = re.findall(r'<tr class="curve">(.*?)</tr>', page)
    assert len(rows) == len(CURVE)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", rows[-1])
    assert cells[:5] == ["16,000,000", "15", "110", "15,990,000", "92.0%"]
    assert cells[5] == "stopped by the time limit" and cells[6] == "2.00%"
    pngs = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    assert len(pngs) == 2
    chart = Image.open(io.BytesIO(base64.b64decode(pngs[1])))
    assert chart.format == "PNG" and chart.width >= 600
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "![coverage against budget](coverage_curve.png)" in md


def test_without_a_chinese_font_warns_once_and_labels_by_code(no_cjk_font, layers, caplog):
    with caplog.at_level(logging.WARNING, logger="planner.report.fonts"):
        assert fonts.chinese_font() is None
        assert fonts.chinese_font() is None
        fig = static_map.plot_plan(layers, title="青溪县", title_latin="qingxi")
        png = static_map.render_png(fig, dpi=40)
    warnings = [r for r in caplog.records if "no font with Chinese glyphs" in r.message]
    assert len(warnings) == 1
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert set(layers["townships"]["township_id"]) <= labels
    assert fig.axes[0].get_title() == "qingxi"
    assert png.startswith(b"\x89PNG")
    assert static_map.township_label("Vaduz", "LI-11", cjk_font=False) == "Vaduz"
    assert static_map.township_label("城关镇", "361199100", cjk_font=True) == "城关镇"


def test_fc_list_parsing():
    text = (
        "WenQuanYi Zen Hei|/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc\n"
        "Noto Sans CJK SC|/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc\n"
        "broken line without a separator\n"
    )
    assert fonts.parse_fc_list(text) == [
        ("WenQuanYi Zen Hei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
        ("Noto Sans CJK SC", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    ]


def test_the_report_credits_the_runs_own_road_data(demo_run):
    # the demo's roads are synthetic: its report says so, not "OpenStreetMap contributors"
    for name in ("report.html", "report.md"):
        text = (demo_run / name).read_text(encoding="utf-8")
        assert "合成示例数据（planner demo 生成，无真实地点），MIT 许可" in text, name
        assert "OpenStreetMap contributors" not in text, name


def test_both_station_tables_name_the_stations(layers):
    from planner.report.report_tables import report_parts

    parts = report_parts(layers, None, lang=translator("zh"))
    assert parts.stations is not None and len(parts.stations) == 2
    where, cost = parts.stations
    assert "名称" in where.columns and "名称" in cost.columns  # a printed page names its rows
    assert where["名称"].tolist() == cost["名称"].tolist()
    assert cost["名称"].astype(str).str.len().gt(0).all()
