"""The font of the report's figures: one with Chinese glyphs, when the machine has one.

A font with Chinese glyphs is found with fontconfig (``fc-list :lang=zh``), else as a
known family in matplotlib's font list (:func:`chinese_font`); without one, a warning is
logged once and map.png labels townships with non-Latin names by their code
(:func:`~planner.report.static_map.township_label`). :func:`figure_style` sets the
matplotlib settings every figure of the report is drawn and saved in.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

logger = logging.getLogger(__name__)

#: Font families with Chinese glyphs, tried in order in matplotlib's font list.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "DengXian",
    "PingFang SC",
    "Hiragino Sans GB",
    "Heiti SC",
    "STHeiti",
    "Noto Serif CJK SC",
    "SimSun",
    "AR PL UMing CN",
    "AR PL UKai CN",
    "Droid Sans Fallback",
)


def parse_fc_list(text: str) -> list[tuple[str, str]]:
    """(family, file) pairs from ``fc-list --format '%{family[0]}|%{file}\\n'`` output."""
    out = []
    for line in text.splitlines():
        family, sep, path = line.partition("|")
        if sep and family.strip() and path.strip():
            out.append((family.strip(), path.strip()))
    return out


def _fontconfig_zh() -> list[tuple[str, str]]:
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        res = subprocess.run(
            [exe, ":lang=zh", "--format", "%{family[0]}|%{file}\n"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_fc_list(res.stdout)


@functools.cache
def chinese_font() -> str | None:
    """The family name of a font with Chinese glyphs, registered with matplotlib.

    Returns
    -------
    str or None
        None when the machine has none; a warning is then logged (once per process).
    """
    from matplotlib import font_manager

    # prefer the well-known families among what fontconfig lists, then any it lists
    found = _fontconfig_zh()
    rank = {f: i for i, f in enumerate(CJK_FAMILIES)}
    for _family, path in sorted(found, key=lambda fp: rank.get(fp[0], len(rank))):
        try:
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
        except (OSError, RuntimeError, ValueError):
            continue
    names = {f.name for f in font_manager.fontManager.ttflist if Path(f.fname).is_file()}
    for family in CJK_FAMILIES:
        if family in names:
            return family
    logger.warning(
        "no font with Chinese glyphs found (fc-list :lang=zh lists none): map.png labels "
        "townships with non-Latin names by their code; install one, e.g. Debian's "
        "fonts-noto-cjk or fonts-wqy-zenhei"
    )
    return None


@contextmanager
def figure_style() -> Iterator[None]:
    """Matplotlib settings for the report's figures: the Chinese font when there is one."""
    import matplotlib as mpl

    family = chinese_font()
    sans = [family, "DejaVu Sans"] if family else ["DejaVu Sans"]
    quiet = logging.getLogger("matplotlib.font_manager")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # not "weight normal not found" for each CJK label
    try:
        with mpl.rc_context(
            {"font.family": "sans-serif", "font.sans-serif": sans, "axes.unicode_minus": False}
        ):
            yield
    finally:
        quiet.setLevel(level)
