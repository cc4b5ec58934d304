"""report.html: the report laid out as one self-contained page, printable on A4.

The page loads nothing (pictures are ``data:`` URIs, the style is inline) and every text
is HTML-escaped. Printed (or saved as PDF) it fits A4 portrait: ``@page`` sets the paper
and margins and numbers the pages; tables take the page width, wrap long texts but never
numbers, repeat their header row on each page and keep rows whole; pictures are at most
the page width; each appendix starts on a new page.
"""

from __future__ import annotations

import base64
import html
import re

import pandas as pd

from planner.report.content import (
    Block,
    Items,
    KeyFigures,
    Paragraph,
    Picture,
    Report,
    Section,
    Signatures,
    Table,
)

#: The page's style: screen, and A4 print.
CSS = """
@page{size:A4;margin:16mm 14mm 18mm 14mm;
@bottom-center{content:counter(page) " / " counter(pages);font-size:8pt;color:#555}}
html{font-size:10.5pt}
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei",
"Microsoft YaHei","PingFang SC","SimHei",sans-serif;margin:2em auto;max-width:64em;
padding:0 1em;color:#1e272e;line-height:1.45}
h1{font-size:1.6em;margin:0 0 .3em}
h2{font-size:1.2em;margin:1.6em 0 .5em;border-bottom:1px solid #bbb;break-after:avoid}
p{margin:.4em 0}
table{border-collapse:collapse;margin:.4em 0 .9em;width:100%;table-layout:auto;
font-size:.9em}
thead{display:table-header-group}
tr{break-inside:avoid}
th,td{border:1px solid #c8c8c8;padding:.2em .4em;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
th{background:#f0f2f4;font-weight:bold}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums;
overflow-wrap:normal}
td.s{white-space:nowrap;overflow-wrap:normal}
table.glance{width:auto;min-width:60%}
table.glance th{width:22em;font-weight:normal}
table.sites,table.dictionary,table.townships{font-size:.8em}
table.signatures{font-size:1em}
table.signatures td{height:3.2em}
table.signatures th{width:14%}
section.signatures{break-inside:avoid}
img{display:block;box-sizing:border-box;max-width:100%;height:auto;border:1px solid #ddd;
margin:.3em 0}
figure{margin:.5em 0;break-inside:avoid}
figcaption,.caption{font-size:.85em;color:#555}
.lead,.muted{color:#555;font-size:.9em}
.warning{border:2px solid #c23616;background:#fdecea;padding:.5em;font-weight:bold}
.note{background:#fff8e1;border-left:3px solid #e1b12c;padding:.3em .6em}
ul.files{columns:2;font-size:.85em}
@media print{html{font-size:10pt}body{margin:0;max-width:none;padding:0}
section.appendix{break-before:page}h2{margin-top:1.2em}
.warning,.note,th{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""

_NUMERIC = re.compile(r"^(?=.*\d)[\s\d,.%>()+-]+$")

#: Texts up to this long are kept on one line (names, ids, units, words) ...
SHORT = 12
#: ... and identifiers (field names, file names) of at most 32 characters.
IDENTIFIER = re.compile(r"^[\w.:-]{1,32}$", re.ASCII)


def _cell(text: str, missing: str) -> str:
    """One body cell: numbers right-aligned, numbers and short texts never wrapped."""
    e = html.escape(text)
    if text == missing or _NUMERIC.match(text):
        return f'<td class="n">{e}</td>'
    if len(text) <= SHORT or IDENTIFIER.match(text):
        return f'<td class="s">{e}</td>'
    return f"<td>{e}</td>"


def html_table(
    df: pd.DataFrame, *, row_class: str | None = None, kind: str = "", missing: str = "n/a"
) -> str:
    """A table of display texts as HTML; every text escaped.

    Parameters
    ----------
    df
        The table (headers and cells are shown as texts).
    row_class
        Class of each body row (tests and stylesheets find the rows by it).
    kind
        Class of the table (its layout in :data:`CSS`).
    missing
        The text of a missing number (aligned as a number).
    """
    e = html.escape
    head = "".join(f"<th>{e(str(c))}</th>" for c in df.columns)
    cls = f' class="{row_class}"' if row_class else ""
    body = []
    for row in df.itertuples(index=False):
        cells = "".join(_cell(str(v), missing) for v in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    table_class = f' class="{kind}"' if kind else ""
    return (
        f"<table{table_class}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _block(block: Block, pictures: dict[str, bytes], missing: str) -> str:
    """One block of a section as HTML."""
    e = html.escape
    if isinstance(block, Paragraph):
        cls = f' class="{block.style}"' if block.style else ""
        return f"<p{cls}>{e(block.text)}</p>"
    if isinstance(block, Table):
        return html_table(block.frame, row_class=block.row_class, kind=block.kind, missing=missing)
    if isinstance(block, KeyFigures):
        rows = "".join(
            f'<tr><th>{e(label)}</th><td id="fig-{e(key)}">{e(text)}</td></tr>'
            for key, label, text in block.rows
        )
        return f'<table class="glance"><tbody>{rows}</tbody></table>'
    if isinstance(block, Picture):
        png = pictures.get(block.key)
        return "" if png is None else f"<figure>{_img(png, block.alt)}</figure>"
    if isinstance(block, Items):
        items = "".join(f"<li>{e(item)}</li>" for item in block.items)
        return f'<ul class="files">{items}</ul>'
    return _signatures(block)


def _signatures(block: Signatures) -> str:
    e = html.escape
    head = "".join(f"<th>{e(t)}</th>" for t in (block.heading, *block.fields))
    blank = "<td></td>" * len(block.fields)
    rows = "".join(f"<tr><th>{e(role)}</th>{blank}</tr>" for role in block.roles)
    return f'<table class="signatures"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def _section(section: Section, pictures: dict[str, bytes], missing: str) -> str:
    classes = " ".join(c for c in (section.anchor, "appendix" if section.appendix else "") if c)
    parts = [
        f'<section id="sec-{html.escape(section.anchor)}" class="{classes}">',
        f"<h2>{html.escape(section.title)}</h2>",
        *(_block(b, pictures, missing) for b in section.blocks),
        "</section>",
    ]
    return "\n".join(p for p in parts if p)


def _footer_css(footer: str | None) -> str:
    """The run's name at the foot of every printed page, left (the page number is in the
    middle); a CSS string, escaped."""
    if not footer:
        return ""
    text = "".join(c if c.isalnum() or c in " -:,.()（）" else f"\\{ord(c):x} " for c in footer)
    return f'@page{{@bottom-left{{content:"{text}";font-size:7pt;color:#555}}}}'


def render_html(report: Report, *, pictures: dict[str, bytes] | None = None) -> str:
    """report.html from the report's content.

    Parameters
    ----------
    report
        From :func:`planner.report.content.build_report`.
    pictures
        PNG bytes by picture key (``map``, ``curve``), embedded as data URIs.

    Returns
    -------
    str
        The page; every text is HTML-escaped.
    """
    e = html.escape
    lang = report.lang
    missing = lang("n/a")
    code = "zh-CN" if lang.code == "zh" else lang.code
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{code}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)}</title><style>{CSS}{_footer_css(report.footer)}</style>",
        "</head><body>",
        f"<h1>{e(report.title)}</h1>",
        f'<p class="lead">{e(report.lead)}</p>',
        *(f'<p class="warning">{e(w)}</p>' for w in report.warnings),
        *(_section(s, pictures or {}, missing) for s in report.sections),
        "</body></html>\n",
    ]
    return "\n".join(parts)
