"""Folder-safe ids of counties: the name of a county's default output folder.

A county config may set ``county.slug``; otherwise the slug is made here, so that two
counties never share a folder by accident:

1. ``county.code`` (the 6-digit GB/T 2260 code, e.g. ``361130``) when it is given;
2. else the county name in pinyin (``婺源县`` -> ``wuyuanxian``), followed by the config
   file's name (also in pinyin when it is Chinese) unless one of them already contains the
   other: 婺源县 in ``jiangxi.yaml`` is ``wuyuanxian-jiangxi``, in ``婺源县.yaml`` or
   ``wuyuan.yaml`` it is ``wuyuanxian``;
3. a name with neither Chinese nor Latin letters (e.g. only digits) gives no part, and the
   file's name alone is the slug.

A slug is lower-case ASCII letters, digits and ``-``.
"""

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

#: Runs of Han characters (CJK unified ideographs, their extensions and compatibility
#: forms, and 〇), the text that is spelled in pinyin.
_HAN = re.compile(
    "([\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+)",
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _syllable(item: str) -> str:
    """A pinyin syllable in ASCII; a Han character pypinyin cannot read as its code point."""
    return "".join(f"u{ord(c):x}" if _HAN.match(c) else _ascii(c) for c in item)


def _ascii(text: str) -> str:
    """Latin text folded to lower-case ASCII (é -> e, full-width Ａ -> a), others dropped."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return folded.lower()


def transliterate(text: str) -> str:
    """Text as a slug: Chinese in pinyin without tones, Latin letters and digits kept.

    Parameters
    ----------
    text
        Any text, e.g. a county name or a file name without its suffix.

    Returns
    -------
    str
        Lower-case ASCII letters, digits and single ``-`` between words; the syllables
        of one run of Chinese are written together (``婺源县`` -> ``wuyuanxian``,
        ``A县 2030`` -> ``a-xian-2030``). Empty when nothing in ``text`` can be spelled
        in ASCII (e.g. only punctuation, or Cyrillic).
    """
    words = []
    for k, run in enumerate(_HAN.split(text)):
        if k % 2:  # a run of Han characters
            syllables = lazy_pinyin(run, style=Style.NORMAL)
            words.append(_NOT_ALNUM.sub("", "".join(map(_syllable, syllables))))
        else:
            words.append(_NOT_ALNUM.sub("-", _ascii(run)))
    return _NOT_ALNUM.sub("-", "-".join(words)).strip("-")


def _spells_a_name(text: str) -> bool:
    """True when ``text`` has Chinese or Latin letters (not only digits or symbols)."""
    return bool(_HAN.search(text)) or any(c.isalpha() for c in _ascii(text))


def default_slug(name: str, *, code: str | None = None, stem: str | None = None) -> str | None:
    """The slug of a county config that sets no ``county.slug``.

    Parameters
    ----------
    name
        ``county.name``, e.g. ``婺源县``.
    code
        ``county.code``, the 6-digit administrative division code; when given it is the
        slug.
    stem
        The config file's name without its suffixes (``婺源县`` for ``婺源县.yaml``), or
        None when the config has no file.

    Returns
    -------
    str or None
        ``code``; else the name in pinyin followed by the slug of ``stem``, the latter
        left out when it adds nothing (one of the two, ignoring ``-``, contains the other:
        then the longer one alone); else the slug of ``stem`` alone. None when neither
        gives any ASCII letter or digit: the caller must ask for ``county.slug``.

    Examples
    --------
    >>> default_slug("婺源县", stem="jiangxi")
    'wuyuanxian-jiangxi'
    >>> default_slug("婺源县", stem="婺源县")
    'wuyuanxian'
    >>> default_slug("婺源县", code="361130", stem="jiangxi")
    '361130'
    """
    if code:
        return code
    own = transliterate(name) if _spells_a_name(name) else ""
    from_file = transliterate(stem) if stem else ""
    if not own or not from_file:
        return own or from_file or None
    own_letters, file_letters = own.replace("-", ""), from_file.replace("-", "")
    if file_letters in own_letters:
        return own
    if own_letters in file_letters:
        return from_file
    return f"{own}-{from_file}"
