"""What every config section shares: the strict base class and a few checks.

The values here are the config's own vocabulary: the Chinese web-map coordinate
systems and the policy classes of candidate sites.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal, TypeGuard, get_args

from pydantic import BaseModel, ConfigDict

from planner.vocab import POLICY_CLASSES  # the policy classes of candidate sites

#: Chinese web-map coordinate systems (not in PROJ), converted to WGS84 at ingest.
CHINA_SYSTEMS = ("gcj02", "bd09")

#: Built from vocab's table at run time: mypy cannot read it, and takes it as Any
PolicyClass = Literal[POLICY_CLASSES]  # type: ignore[valid-type]


class Section(BaseModel):
    """A config section: unknown keys are errors, assignments are validated too, and a
    number must be finite (``.inf`` in YAML is a slip, not a setting)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


def with_defaults(defaults: dict[str, Any], value: object) -> object:
    """A mapping from the config laid over its defaults (anything else passes through)."""
    return {**defaults, **value} if isinstance(value, dict) else value


def is_bare_int(value: object) -> TypeGuard[int]:
    """Whether YAML read a value as a whole number (a bare 361130 or 4490), not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def crs_text(value: str) -> str:
    """An EPSG number written alone (``4490``) as ``EPSG:4490``; other text as it is."""
    return f"EPSG:{value}" if value.strip().isdigit() else value


def is_crs(text: str) -> bool:
    """Whether pyproj reads ``text`` as a CRS (e.g. ``EPSG:4490``)."""
    from pyproj import CRS

    try:
        CRS.from_user_input(text)
    except Exception:
        return False
    return True


def known_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys ``model`` takes at ``loc`` (a path of keys and list indices; [] if unknown)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        kinds = [get_args(a)[0] if get_args(a) else a for a in get_args(field.annotation)]
        kinds = kinds or [field.annotation]
        models = [a for a in kinds if isinstance(a, type) and issubclass(a, BaseModel)]
        if not models:
            return []
        current = models[0]
    return list(current.model_fields)


def unknown_key_message(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """``unknown key 'a.b'``, with the nearest known key (a typo) or the known keys."""
    where = ".".join(str(p) for p in loc)
    known = known_keys(model, loc[:-1])
    near = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.75) if loc else []
    if near:
        return f"unknown key '{where}' (did you mean '{near[0]}'?)"
    if known and len(known) <= 12:
        return f"unknown key '{where}' (known keys: {', '.join(known)})"
    return f"unknown key '{where}'"
