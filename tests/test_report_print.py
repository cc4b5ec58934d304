"""report.html printed on A4 in a real browser, and the report's languages kept apart.

The demo run's report is written again in Chinese and in English from the run's own
files (summary, layers, data dictionary, config). The Chinese one is printed to PDF by
headless chromium (Playwright): its pages are counted and must be A4; laid out at the A4
content width with print media, no table, picture or page may be wider than the page.
The Chinese report must hold no English word but names, acronyms, file names, ids and
config keys that stay as written (each allowed from a narrow list or from the run's own
data), and the English report no Chinese character but in the data's own values.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from pydantic import BaseModel

from planner.config import Config, load_config
from planner.i18n import translator
from planner.report.assumptions import OSM_ATTRIBUTION
from planner.report.charts import plot_coverage_curve
from planner.report.dictionary import read_data_dictionary
from planner.report.document import write_document
from planner.report.export import export_crss, run_dictionary
from planner.report.html_page import CSS
from planner.report.reexport import read_run_layers
from planner.report.static_map import plot_plan
from planner.tours.layers import DAY_NAMES

CHROMIUM = Path("/usr/bin/chromium")

#: Words a Chinese report writes in Latin letters: acronyms, names of software, data and
#: coordinate systems.
ACRONYMS = frozenset(
    {"OSM", "OpenStreetMap", "ODbL", "HiGHS", "CBC", "CGCS2000", "WGS84", "GIS", "MIP",
     "CSV", "WKT", "Shapefile", "GeoPackage", "PyVRP"}
)  # fmt: skip
#: A token in Latin letters: a word with the digits, dots and dashes of a name or id.
TOKEN = re.compile(r"[A-Za-z0-9_.:/-]*[A-Za-z][A-Za-z0-9_.:/-]*")
#: Chinese characters and full-width punctuation.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
#: OpenStreetMap tag keys the data dictionary names.
OSM_TAGS = frozenset({"capacity"})
#: Identifiers that are codes, not words: EPSG codes, OSM ids (n123, w456), appendix letters.
CODES = re.compile(r"^(EPSG:\d+|[nwr]\d+|[A-Z])$")
#: Codes of the days in the tours' files (the data dictionary names them: mon ... sun).
DAY_CODES = frozenset(DAY_NAMES)


def _tokens(text: str) -> set[str]:
    return {t.strip(".:/-") for t in TOKEN.findall(text)} - {""}


def data_tokens(values: list[str]) -> set[str]:
    """The Latin-letter tokens inside data values (names of places and sites)."""
    return _tokens(" ".join(str(v) for v in values))


def visible_text(page: str) -> str:
    """The text a reader sees: no style, script or tags; alt texts and the title kept."""
    page = re.sub(r"<(style|script)\b.*?</\1>", " ", page, flags=re.S | re.I)
    alts = re.findall(r'<img\b[^>]*\balt="([^"]*)"', page)
    page = re.sub(r"<[^>]+>", " ", page)  # tags, with their base64 pictures
    return html.unescape(" ".join([page, *alts]))


def markdown_text(md: str) -> str:
    """report.md without Markdown's escapes and picture links (their alt texts kept)."""
    md = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", md)
    return html.unescape(re.sub(r"\\(.)", r"\1", md))


def english_words(text: str, allowed: set[str]) -> set[str]:
    """Latin-letter tokens of ``text`` that are neither allowed nor codes."""
    text = text.replace(OSM_ATTRIBUTION, " ")  # the credit OSM asks for, word for word
    return {t for t in _tokens(text) if t not in allowed and not CODES.match(t)}


def chinese_runs(text: str, values: list[str]) -> set[str]:
    """Runs of Chinese characters in ``text`` that no data value contains."""
    return {run for run in CJK.findall(text) if not any(run in v for v in values)}


def config_keys(model: type[BaseModel] = Config, prefix: str = "") -> set[str]:
    """Every dotted config key (``costs.connection_default``, ``solver.time_limit_s``)."""
    keys = set()
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        keys.add(key)
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            keys |= config_keys(kind, f"{key}.")
    return keys


@pytest.fixture(scope="module")
def reports(demo_run, demo_config, tmp_path_factory):
    """report.html and report.md of the demo run, in zh and en: {code: (html, md)}."""
    summary = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    layers = read_run_layers(demo_run)
    files = sorted(p.name for p in demo_run.iterdir() if not p.name.startswith(("report", "map.")))
    files = [*files, "map.html"]
    cfg = load_config(demo_config)
    # the dictionary the pipeline gives the report (data_dictionary.csv is in the run's language)
    d = run_dictionary(
        layers,
        pd.read_csv(demo_run / "assignments.csv"),
        formats=cfg.report.formats,
        extra_crs=export_crss(cfg.report.extra_crs, layers["townships"]),
    )
    out = {}
    for code in ("zh", "en"):
        folder = tmp_path_factory.mktemp(f"report_{code}")
        write_document(folder, summary, layers, d, files=files, config=cfg, lang=translator(code))
        out[code] = tuple(
            (folder / name).read_text(encoding="utf-8") for name in ("report.html", "report.md")
        )
    return out


#: Columns of the run's tables whose values are names and ids, printed as they are.
NAME_COLUMNS = ("name", "township_name", "township_id", "candidate_id", "repair_id", "osm_id",
                "substation_id", "van", "stop_id", "station_id", "operator")  # fmt: skip


@pytest.fixture(scope="module")
def data_values(demo_run, demo_config) -> list[str]:
    """The texts of the run's data printed as they are: names, ids, files and credits."""
    values: set[str] = set()
    names = ("stations.csv", "repair_points.csv", "townships.csv", "tour_stops.csv",
             "existing_chargers.csv", "substations.csv")  # fmt: skip
    for name in names:
        table = pd.read_csv(demo_run / name, dtype=str, keep_default_na=False)
        for column in NAME_COLUMNS:
            values |= set(table.get(column, []))
    summary = json.loads((demo_run / "summary.json").read_text(encoding="utf-8"))
    values |= {str(summary[k]) for k in ("county", "slug", "crs_metric")}
    cfg = load_config(demo_config)
    values |= {str(v) for v in cfg.inputs.attribution.values() if v}
    values |= {p.name for p in demo_config.parent.iterdir()}
    values |= {p.name for p in demo_run.iterdir()} | {"map.html", "sites.gpkg"}
    return sorted(v for v in values if v)


@pytest.fixture(scope="module")
def field_names(demo_run) -> set[str]:
    """Column and Shapefile field names of the data dictionary (identifiers)."""
    d, _ = read_data_dictionary(demo_run / "data_dictionary.csv")  # en or zh headers
    return set(d["column"]) | set(d["shapefile_field"]) - {""}


def without_field_cells(text: str, fields: set[str]) -> str:
    """``text`` without table cells that are exactly a field name (HTML or Markdown)."""
    cell = re.compile(r"(<td[^>]*>|\| )([^<|\s]+)(?=</td>| \|)")
    return cell.sub(lambda m: m.group(1) if m.group(2) in fields else m.group(0), text)


@pytest.fixture(scope="module")
def allowed_zh(data_values) -> set[str]:
    tokens = set().union(*(_tokens(v) for v in data_values))
    return tokens | ACRONYMS | OSM_TAGS | DAY_CODES | {k for k in config_keys() if "." in k}


def test_the_chinese_report_has_no_english_words(reports, allowed_zh, field_names, demo_config):
    from planner.report.assumptions import map_credit

    fields = field_names
    page, md = reports["zh"]
    assert '<html lang="zh-CN">' in page
    credit = map_credit(load_config(demo_config))  # the demo's own (synthetic) road data
    assert credit != OSM_ATTRIBUTION
    assert credit in visible_text(page) and credit in markdown_text(md)
    page, md = without_field_cells(page, fields), without_field_cells(markdown_text(md), fields)
    assert english_words(visible_text(page), allowed_zh) == set()
    assert english_words(md, allowed_zh) == set()
    for heading in (
        "审批签字",
        "编制",
        "审核",
        "批准",
        "签字",
        "日期",
        "规划假设",
        "数据来源与许可",
    ):
        assert heading in visible_text(page), heading


def test_the_english_report_has_no_chinese_but_in_data(reports, data_values):
    page, md = reports["en"]
    assert '<html lang="en">' in page
    assert "Prepared by" in page and "Approved by" in page
    assert chinese_runs(visible_text(page), data_values) == set()
    assert chinese_runs(markdown_text(md), data_values) == set()


def test_the_leak_checks_find_a_leak(reports, allowed_zh, data_values, field_names):
    zh, en = without_field_cells(reports["zh"][0], field_names), reports["en"][0]
    assert english_words(visible_text(zh.replace("审批签字", "Signatures")), allowed_zh) == {
        "Signatures"
    }
    # a word that is also a config section or a column name is still a word
    assert english_words("充电站 stations chargers", allowed_zh) == {"stations", "chargers"}
    assert without_field_cells("<td>chargers</td><td>chargers 台</td>", {"chargers"}) == (
        "<td></td><td>chargers 台</td>"
    )
    assert chinese_runs(visible_text(en.replace("Signatures", "审批签字")), data_values) == {
        "审批签字"
    }


def _figure_texts(fig) -> str:
    from matplotlib.text import Text

    return " ".join(t.get_text() for t in fig.findobj(Text))


def test_chinese_figures_have_no_english_words(demo_run, allowed_zh):
    zh = translator("zh")
    layers = read_run_layers(demo_run)
    text = _figure_texts(plot_plan(layers, title="青溪县充电站与维修网点布局", lang=zh))
    assert "充电次数覆盖率" in text and "北" in text
    curve = [
        {"budget": 8e6, "stations": 9, "chargers": 50, "capex": 7.9e6, "covered_share": 0.61,
         "status": "optimal", "gap": 0.001},
        {"budget": 4e6, "status": "infeasible"},
    ]  # fmt: skip
    text += _figure_texts(plot_coverage_curve(curve, lang=zh))
    assert "预算（百万元）" in text and "无可行方案" in text
    assert english_words(text, allowed_zh) == set()


# ---- printing ------------------------------------------------------------------------

#: Measures, at print media, what does not fit the content width: tables wider than
#: their container or than the page, pictures and cells that overflow, and the page.
_MEASURE = """(width) => {
  const out = [];
  const name = (el) => el.tagName + (el.className ? '.' + el.className : '');
  for (const t of document.querySelectorAll('table')) {
    const box = t.getBoundingClientRect();
    if (t.scrollWidth > t.parentElement.clientWidth + 1 || box.right > width + 1)
      out.push([name(t), t.scrollWidth, t.parentElement.clientWidth, box.right]);
  }
  for (const c of document.querySelectorAll('td, th'))
    if (c.scrollWidth > c.clientWidth + 1) out.push([name(c), c.scrollWidth, c.clientWidth]);
  for (const i of document.querySelectorAll('img'))
    if (i.getBoundingClientRect().right > width + 1) out.push(['IMG', i.width, width]);
  const page = document.documentElement.scrollWidth;
  if (page > width + 1) out.push(['page', page, width]);
  return out;
}"""


def content_width_px() -> float:
    """The A4 width less the left and right margins of the page's ``@page`` rule, in CSS px."""
    m = re.search(r"@page\{size:A4;margin:([\d.]+)mm ([\d.]+)mm ([\d.]+)mm ([\d.]+)mm", CSS)
    assert m, "report.html's @page rule sets A4 and margins in mm"
    right, left = float(m.group(2)), float(m.group(4))
    return (210 - left - right) / 25.4 * 96


def _print_page(browser, page_html: str, tmp_path: Path):
    """A browser page laid out at the A4 content width with print media."""
    path = tmp_path / "page.html"
    path.write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": int(content_width_px()), "height": 1100})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
    page.goto(path.as_uri())
    page.emulate_media(media="print")
    return page


def pdf_pages(pdf: bytes) -> tuple[int, list[tuple[float, float]]]:
    """Page objects of a PDF and the sizes (points) of its media boxes."""
    pages = len(re.findall(rb"/Type\s*/Page(?![A-Za-z])", pdf))
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return pages, [(float(w), float(h)) for w, h in boxes]


@pytest.mark.slow
def test_the_chinese_report_prints_on_a4(browser, reports, tmp_path):
    page = _print_page(browser, reports["zh"][0], tmp_path)
    pdf = page.pdf(format="A4", print_background=True)
    (tmp_path / "report.pdf").write_bytes(pdf)
    pages, boxes = pdf_pages(pdf)
    # the page tree's root counts every page (its kids count their own)
    assert max(int(n) for n in re.findall(rb"/Count (\d+)", pdf)) == pages
    # main part (glance, map, sites, the vans' tours, townships, passes, assumptions,
    # sources, signatures) on 6 to 10 pages, each appendix on its own pages (the demo: 11)
    assert 7 <= pages <= 13, pages
    assert boxes and all(abs(w - 595.3) < 1 and abs(h - 841.9) < 1 for w, h in boxes), boxes
    page.close()


@pytest.mark.slow
def test_no_table_is_clipped_on_the_page(browser, reports, tmp_path):
    width = content_width_px()
    page = _print_page(browser, reports["zh"][0], tmp_path)
    assert page.evaluate("() => window.innerWidth") == int(width)
    assert page.evaluate(_MEASURE, width) == []
    assert page.evaluate("() => document.querySelectorAll('table').length") >= 9
    style = page.evaluate(
        """() => ({
        thead: getComputedStyle(document.querySelector('thead')).display,
        row: getComputedStyle(document.querySelector('tbody tr')).breakInside,
        appendix: [...document.querySelectorAll('section.appendix')]
            .map(s => getComputedStyle(s).breakBefore),
        img: getComputedStyle(document.querySelector('img')).maxWidth,
    })"""
    )
    assert style["thead"] == "table-header-group" and style["row"] == "avoid"
    assert style["appendix"] and set(style["appendix"]) == {"page"}
    assert style["img"] == "100%"
    page.close()


@pytest.mark.slow
def test_the_clipping_check_sees_a_table_too_wide(browser, reports, tmp_path):
    wide = "".join(f"<td>{10**9 + i:,}</td>" for i in range(14))
    page_html = reports["zh"][0].replace(
        "</body>", f'<table><tbody><tr class="n">{wide}</tr></tbody></table></body>'
    )
    page_html = page_html.replace("<td>1,0", '<td class="n">1,0')
    page = _print_page(browser, page_html, tmp_path)
    found = page.evaluate(_MEASURE, content_width_px())
    assert any(item[0] == "TABLE" for item in found), found
    page.close()


def test_the_report_domain_agrees_with_the_other_domains():
    # all domains of a language form one catalog: a text translated twice differently
    # would take whichever file is read last
    from babel.messages.pofile import read_po

    from planner.i18n import LOCALE_DIR

    folder = LOCALE_DIR / "zh" / "LC_MESSAGES"
    domains = {}
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fh:
            domains[path.stem] = {m.id: m.string for m in read_po(fh) if m.id and m.string}
    report = domains.pop("report")
    assert len(report) > 80
    clashes = {
        (domain, msgid): (text, report[msgid])
        for domain, texts in domains.items()
        for msgid, text in texts.items()
        if msgid in report and report[msgid] != text
    }
    assert clashes == {}


def test_every_printed_page_names_the_run(demo_run):
    """A signed printout can be tied to its run folder: the lead and every page's foot
    name the run id, with its start in China's time."""
    page = (demo_run / "report.html").read_text("utf-8")
    run = demo_run.name
    start = dt.datetime.strptime(run[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    local = start.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    lead = re.search(r'<p class="lead">([^<]*)</p>', page).group(1)
    assert lead.startswith(f"运行编号 {run}，{local}（北京时间）")
    foot = re.search(r'@bottom-left\{content:"([^"]*)"', page).group(1)
    assert run in foot and local in foot
    assert f"运行编号 {run}" in (demo_run / "report.md").read_text("utf-8")


def test_the_printed_map_keys_the_station_sizes_with_the_plans_charger_counts(demo_run):
    """The legend shows the fewest and the most chargers of a station at the size the
    map draws them."""
    layers = read_run_layers(demo_run)
    fig = plot_plan(layers, title="青溪县", lang=translator("zh"))
    legend = fig.axes[0].get_legend()
    pairs = zip(legend.get_texts(), legend.legend_handles, strict=True)
    lines = {t.get_text().strip(): h for t, h in pairs}
    counts = layers["stations"]["chargers"]
    for n in (counts.min(), counts.max()):
        handle = lines[f"{n} 台充电桩"]
        assert handle.get_markersize() ** 2 == pytest.approx(30 + 12 * n)
