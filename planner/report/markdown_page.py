"""report.md: the report's content as Markdown, pictures linked by file name.

Every text is made inert: HTML-escaped and Markdown's special characters escaped, so a
name from the data cannot become a link, a picture or markup.
"""

from __future__ import annotations

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
    Table,
)

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")


def md(text: object) -> str:
    """Text from data made inert in Markdown: HTML-escaped, Markdown characters escaped."""
    flat = " ".join(str(text).split())
    return _MD_SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def md_table(df: pd.DataFrame) -> str:
    """A table of display texts as a Markdown (GFM) table."""
    head = "| " + " | ".join(md(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    body = ["| " + " | ".join(md(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _block(block: Block, files: dict[str, str], lang_value: str) -> list[str]:
    """One block as Markdown lines (ending with a blank line)."""
    if isinstance(block, Paragraph):
        text = md(block.text)
        return [f"*{text}*" if block.style in ("muted", "caption") else text, ""]
    if isinstance(block, Table):
        return [md_table(block.frame), ""]
    if isinstance(block, KeyFigures):
        glance = pd.DataFrame([(label, text) for _, label, text in block.rows])
        glance.columns = pd.Index(["", lang_value])
        return [md_table(glance), ""]
    if isinstance(block, Picture):
        name = files.get(block.key)
        return [] if name is None else [f"![{md(block.alt)}]({name})", ""]
    if isinstance(block, Items):
        return [*(f"- {md(item)}" for item in block.items), ""]
    frame = pd.DataFrame(
        [[role, *("" for _ in block.fields)] for role in block.roles],
        columns=[block.heading, *block.fields],
    )
    return [md_table(frame), ""]


def _section(section: Section, files: dict[str, str], lang_value: str) -> list[str]:
    lines = [f"## {md(section.title)}", ""]
    for block in section.blocks:
        lines += _block(block, files, lang_value)
    return lines


def render_markdown(report: Report, *, files: dict[str, str] | None = None) -> str:
    """report.md from the report's content.

    Parameters
    ----------
    report
        From :func:`planner.report.content.build_report`.
    files
        File names of the pictures beside report.md, by picture key (``map``, ``curve``);
        a picture without one is left out.

    Returns
    -------
    str
    """
    lang = report.lang
    warning = lang("Warning:")
    lines = [f"# {md(report.title)}", "", md(report.lead), ""]
    lines += [f"> **{warning}** {md(w)}\n" for w in report.warnings]
    for section in report.sections:
        lines += _section(section, files or {}, lang("Value"))
    return "\n".join(lines)
