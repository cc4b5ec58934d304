"""Languages of the outputs: gettext message catalogs, managed with Babel.

Every text a user reads in the map, the report, the workbook, the data dictionary, the
GIS field aliases and the CLI summary is written in English in the code, marked for
translation, and looked up in the catalogs ``planner/locale/<lang>/LC_MESSAGES/*.po``
(one file per domain: ``common``, ``report``, ``map``, ``workbook``, ``gis``, ``cli``;
all domains of a language form one catalog). English is the source language, so ``en``
needs no catalog.

Marking follows gettext: ``lang.gettext("Stations")`` or ``_("Stations")`` where the
text is used, ``N_("Stations")`` where it is only defined (a table of labels) and
translated later. ``make catalogs`` extracts the marked texts with Babel
(``pybabel extract``) and lists the ones the catalogs lack; a test fails on any.

Examples
--------
>>> lang = translator("zh")
>>> lang("Charging stations")
'充电站'
>>> lang.yes_no(True)
'是'
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, get_args

import numpy as np

logger = logging.getLogger(__name__)

#: Languages of the outputs.
Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = get_args(Language)

#: Folder of the message catalogs.
LOCALE_DIR = Path(__file__).parent / "locale"


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for a deferred text
    """Mark ``message`` for translation where it is defined; translate it where used."""
    return message


@functools.cache
def _catalog(code: str) -> Mapping[str, str]:
    """All domains of one language: msgid -> msgstr (empty translations left out)."""
    from babel.messages.pofile import read_po

    found: dict[str, str] = {}
    folder = LOCALE_DIR / code / "LC_MESSAGES"
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=code, domain=path.stem)
        for message in catalog:
            if message.id and isinstance(message.id, str) and message.string:
                found[message.id] = str(message.string)
    return found


@dataclass(frozen=True)
class Lang:
    """The texts of one output language.

    Attributes
    ----------
    code
        ``zh`` or ``en``.
    catalog
        English text -> text in this language (empty for English).
    """

    code: Language
    catalog: Mapping[str, str] = field(repr=False)

    def gettext(self, message: str) -> str:
        """The translation of ``message`` (itself where the catalog lacks it)."""
        return self.catalog.get(message, message)

    def __call__(self, message: str, /, **values: object) -> str:
        """The translation of ``message``, formatted with ``values`` (``str.format``)."""
        text = self.gettext(message)
        return text.format(**values) if values else text

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Singular or plural of a counted text (Chinese has one form)."""
        return self.gettext(singular if n == 1 else plural)

    def yes_no(self, value: object) -> str:
        """是/否 or yes/no; empty for a missing value."""
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        return self.gettext("yes") if bool(value) else self.gettext("no")

    def label(self, column: str) -> str:
        """Short label of an output column (headers, field aliases, popups)."""
        from planner.columns import LABELS

        return self.gettext(LABELS.get(column, column))

    def description(self, column: str) -> tuple[str, str]:
        """Description and unit of an output column, from the data dictionary."""
        from planner.columns import DICTIONARY

        text, unit = DICTIONARY.get(column, ("(not documented)", ""))
        return self.gettext(text), self.unit(unit)

    def unit(self, unit: str) -> str:
        """A unit as written in this language (``CNY`` -> ``元``; ``kW`` stays)."""
        return self.gettext(unit) if unit and unit != "-" else unit

    def policy_class(self, code: str) -> str:
        """Label of a policy class (``fuel_station`` -> 加油站 / fuel station)."""
        from planner.vocab import CLASS_LABELS, EXISTING_CLASS

        if code == EXISTING_CLASS:
            return self.gettext("existing charging site")
        return self.gettext(CLASS_LABELS.get(code, code))


def translator(code: str) -> Lang:
    """The :class:`Lang` of ``code`` (``zh`` or ``en``).

    Raises
    ------
    ValueError
        For a language with no catalog.
    """
    if code not in LANGUAGES:
        msg = f"language {code!r}: use one of {', '.join(LANGUAGES)}"
        raise ValueError(msg)
    return Lang(code, {} if code == "en" else _catalog(code))


def default_language(lon: Iterable[float], lat: Iterable[float]) -> Language:
    """``zh`` for a county inside China (by its centre), else ``en``."""
    from planner.ingest.china import in_china

    x, y = float(np.mean(list(lon))), float(np.mean(list(lat)))
    return "zh" if bool(in_china(x, y)) else "en"


def catalog_messages(code: str) -> dict[str, str]:
    """The catalog of ``code`` as a plain dict (for tests and ``make catalogs``)."""
    return dict(_catalog(code))


def extracted_messages(root: Path | None = None) -> dict[str, list[str]]:
    """Every text marked for translation in the package: msgid -> where it is used.

    Runs Babel's Python extractor with the keywords ``_``, ``gettext``, ``ngettext``,
    ``N_`` and ``lang`` (calls of a :class:`Lang` object named ``lang``).
    """
    from babel.messages.extract import extract_from_dir

    root = root or Path(__file__).parent
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "N_": None,
        "lang": None,
    }
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(root), method_map=[("**.py", "python")], keywords=keywords
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for msgid in ids:
            if msgid:
                found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def missing_messages(code: str = "zh") -> dict[str, list[str]]:
    """Marked texts that the catalog of ``code`` does not translate."""
    catalog = _catalog(code)
    wanted = extracted_messages()
    for text in table_messages():
        wanted.setdefault(text, ["planner/columns.py or planner/vocab.py"])
    return {k: v for k, v in wanted.items() if k not in catalog}


def run_language(setting: str | None, county: object) -> Lang:
    """The :class:`Lang` of a run: ``report.language``, else by where the county lies.

    Parameters
    ----------
    setting
        ``report.language`` of the config (``None``: choose by location).
    county
        The county boundary (a GeoDataFrame in any CRS).
    """
    if setting is not None:
        return translator(setting)
    import geopandas as gpd

    assert isinstance(county, gpd.GeoDataFrame)
    centre = county.to_crs(4326).union_all().representative_point()
    return translator(default_language([centre.x], [centre.y]))


def table_messages() -> set[str]:
    """Texts defined in tables rather than marked calls: column labels, descriptions, units."""
    from planner.columns import DICTIONARY, LABELS
    from planner.vocab import CLASS_LABELS

    units = {u for _, u in DICTIONARY.values() if u and u != "-"}
    return {*LABELS.values(), *(d for d, _ in DICTIONARY.values()), *units, *CLASS_LABELS.values()}
