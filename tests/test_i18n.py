"""Message catalogs: every marked text translated, placeholders kept, languages chosen."""

from __future__ import annotations

import re
import string

import geopandas as gpd
import pytest
from shapely.geometry import box

from planner import columns as C
from planner.i18n import (
    catalog_messages,
    default_language,
    missing_messages,
    run_language,
    translator,
)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_marked_text_has_a_chinese_translation() -> None:
    missing = missing_messages("zh")
    listed = "\n".join(f"{k!r} ({v[0]})" for k, v in sorted(missing.items()))
    assert not missing, f"{len(missing)} texts lack a zh translation:\n{listed}"


def test_translations_keep_the_placeholders() -> None:
    for msgid, msgstr in catalog_messages("zh").items():
        assert _fields(msgid) == _fields(msgstr), msgid


def test_chinese_translations_are_chinese() -> None:
    # a translation identical to its English source is a text left untranslated,
    # unless it is a symbol (X, Y, 0-1) that both languages write alike
    for msgid, msgstr in catalog_messages("zh").items():
        if re.search(r"[A-Za-z]{3,}", msgid) and msgid == msgstr:
            pytest.fail(f"{msgid!r} is 'translated' as itself")


def test_labels_descriptions_and_booleans() -> None:
    zh, en = translator("zh"), translator("en")
    assert zh.label(C.CAPEX) == "投资额"
    assert en.label(C.CAPEX) == "Capital cost"
    assert zh.description(C.CHARGER_KW) == ("充电站的装机充电功率", "千瓦")
    assert zh.policy_class("fuel_station") == "加油站"
    assert en.policy_class("fuel_station") == "fuel station"
    assert [zh.yes_no(v) for v in (True, False, None, float("nan"))] == ["是", "否", "", ""]
    assert en.yes_no(True) == "yes"
    assert zh("no such text {n}", n=3) == "no such text 3"


def test_an_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language 'fr'"):
        translator("fr")


def test_the_default_language_follows_the_county() -> None:
    assert default_language([117.9], [29.2]) == "zh"  # Jiangxi
    assert default_language([9.55], [47.15]) == "en"  # Liechtenstein
    china = gpd.GeoDataFrame(geometry=[box(117.8, 29.1, 118.0, 29.3)], crs=4326)
    alps = gpd.GeoDataFrame(geometry=[box(9.5, 47.0, 9.6, 47.2)], crs=4326).to_crs(3857)
    assert run_language(None, china).code == "zh"
    assert run_language(None, alps).code == "en"
    assert run_language("en", china).code == "en"


def test_the_domains_agree_on_every_shared_text() -> None:
    from babel.messages.pofile import read_po

    from planner.i18n import LOCALE_DIR

    seen: dict[str, tuple[str, str]] = {}
    for path in sorted((LOCALE_DIR / "zh" / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as fh:
            for message in read_po(fh):
                if not message.id or not message.string:
                    continue
                first = seen.setdefault(str(message.id), (path.stem, str(message.string)))
                assert first[1] == message.string, (
                    f"{message.id!r}: {first[0]}.po says {first[1]!r}, "
                    f"{path.stem}.po says {message.string!r}"
                )
