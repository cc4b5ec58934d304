"""Files that map.html carries inline, so that it renders with no network at all.

Leaflet (BSD-2-Clause, © Vladimir Agafonkin and CloudMade) comes from the
``XStatic-Leaflet`` package, a dependency installed by pip; its images (layer-control
and default-marker icons) are inlined as ``data:`` URIs. The planner's own script and
styles (``map.js``, ``map_ui.js``, ``map.css``) sit next to this module. Nothing is fetched at run
time, and nothing of Leaflet is copied into this repository.
"""

from __future__ import annotations

import base64
import importlib
import re
from functools import cache
from importlib import resources
from pathlib import Path

from planner.errors import AssetError

#: Python package holding Leaflet's dist files.
LEAFLET_PACKAGE = "xstatic.pkg.leaflet"

_HINT = "install the planner's dependencies again (pip install -e .), which bring XStatic-Leaflet"


def _leaflet_dir() -> Path:
    try:
        mod = importlib.import_module(LEAFLET_PACKAGE)
    except ImportError:
        msg = f"map.html needs Leaflet from the XStatic-Leaflet package, not installed: {_HINT}"
        raise AssetError(msg) from None
    return Path(mod.BASE_DIR)


def _read(path: Path) -> str:
    if not path.is_file():
        msg = f"map asset {path} is missing: {_HINT}"
        raise AssetError(msg)
    return path.read_text(encoding="utf-8")


def _data_uri(path: Path) -> str:
    if not path.is_file():
        msg = f"map asset {path} is missing: {_HINT}"
        raise AssetError(msg)
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


@cache
def leaflet_version() -> str:
    """The version of the Leaflet that map.html embeds."""
    _leaflet_dir()
    return str(importlib.import_module(LEAFLET_PACKAGE).VERSION)


def leaflet_assets() -> tuple[str, str]:
    """Leaflet's stylesheet and script, ready to inline.

    Returns
    -------
    tuple of str
        The CSS, with ``url(images/...)`` replaced by ``data:`` URIs, and the minified
        script (its licence comment kept, its source-map comment dropped).

    Raises
    ------
    AssetError
        Leaflet or one of its files is not installed.
    """
    base = _leaflet_dir()
    css = _read(base / "leaflet.css")
    css = re.sub(
        r"url\((images/[\w.-]+\.png)\)", lambda m: f"url({_data_uri(base / m.group(1))})", css
    )
    js = _read(base / "leaflet.js")
    js = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", js)
    if "Leaflet" not in js[:300]:  # its licence header
        msg = f"{base / 'leaflet.js'} does not look like Leaflet: {_HINT}"
        raise AssetError(msg)
    return css, js


def planner_assets() -> tuple[str, str]:
    """The planner's own map stylesheet and script (``map.css``; ``map.js`` then ``map_ui.js``).

    Raises
    ------
    AssetError
        A file is missing from the installed package.
    """
    files = resources.files("planner.report")
    out = []
    for name in ("map.css", "map.js", "map_ui.js"):
        item = files / name
        if not item.is_file():
            msg = f"planner/report/{name} is missing from the installed package: reinstall it"
            raise AssetError(msg)
        out.append(item.read_text(encoding="utf-8"))
    return out[0], "\n".join(out[1:])
