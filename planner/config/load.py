"""The load of a config: reading the YAML, ``--set`` overrides, validation, paths.

The messages of a bad config name the key (``'stations.budget': ...``), an unknown key
(``unknown key 'stations.max_station'``) or a missing one, for the command line to print.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from planner.config.base import unknown_key_message
from planner.config.schema import Config, no_slug_message
from planner.errors import ConfigError
from planner.slugs import default_slug

logger = logging.getLogger(__name__)

#: YAML 1.1's base-60 numbers (``16:30`` is 990, ``25:00`` is 1500): a config reads them
#: as the text they are (a time of day), as YAML 1.2 does.
_SEXAGESIMAL = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader, with base-60 numbers read as text (see :func:`read_yaml`)."""


_ConfigLoader.yaml_implicit_resolvers = {
    first: [("tag:yaml.org,2002:str", _SEXAGESIMAL), *resolvers]
    if first in "+-0123456789"
    else list(resolvers)
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(text: str) -> Any:
    """Parse YAML as a config's file and its ``--set`` values are read: safely, and with
    ``16:30`` as text, not YAML 1.1's base-60 number 990 (so that a message about a time
    shows it as it was typed).

    Parameters
    ----------
    text
        The YAML.

    Returns
    -------
    Any
        The parsed document (None for an empty one).

    Raises
    ------
    yaml.YAMLError
        The text is not valid YAML.
    """
    loader = _ConfigLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def apply_overrides(
    raw: dict[str, Any], overrides: list[str], *, sources: str | Sequence[str] = "--set"
) -> dict[str, Any]:
    """Apply ``key.path=value`` overrides to a raw config mapping.

    Parameters
    ----------
    raw
        The parsed YAML mapping; not modified.
    overrides
        Strings ``section.field=value``; the value is parsed as YAML (:func:`read_yaml`).
    sources
        Where the overrides come from, named in an error about one: one name for all,
        or one per override (see :func:`load_config`).

    Returns
    -------
    dict
        A new mapping with the overrides set.
    """
    out: dict[str, Any] = _deep_copy(raw)
    for item, source in zip(overrides, override_sources(overrides, sources), strict=True):
        if "=" not in item:
            msg = f"{source} {item!r}: expected key=value, e.g. stations.budget=8e6"
            raise ConfigError(msg)
        key, value = item.split("=", 1)
        parts = [p for p in key.strip().split(".") if p]
        if not parts:
            msg = f"{source} {item!r}: empty key"
            raise ConfigError(msg)
        node = out
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = {}
                node[part] = child
            if not isinstance(child, dict):
                msg = f"{source} {item!r}: '{part}' is not a section"
                raise ConfigError(msg)
            node = child
        try:
            node[parts[-1]] = read_yaml(value) if value.strip() else None
        except yaml.YAMLError:
            node[parts[-1]] = value
    return out


def override_sources(overrides: Sequence[str], sources: str | Sequence[str]) -> list[str]:
    """The source of each override: ``sources`` for all, or one each, in order.

    Raises
    ------
    ValueError
        ``sources`` is a sequence of another length than ``overrides``.
    """
    if isinstance(sources, str):
        return [sources] * len(overrides)
    if len(sources) != len(overrides):
        msg = f"{len(sources)} sources for {len(overrides)} overrides: give one each"
        raise ValueError(msg)
    return list(sources)


def _blame(message: str, overrides: Sequence[str], sources: list[str], raw: dict[str, Any]) -> str:
    """``(set by --set: a.b; --year 2026: c.d)`` for the overrides an error names (the
    last of a key set twice counts: it won), '' when it names none."""
    last: dict[str, str] = {}
    for item, source in zip(overrides, sources, strict=True):
        last[item.split("=", 1)[0].strip()] = source
    by_source: dict[str, list[str]] = {}
    for key, source in last.items():
        if _names_key(message, key, raw):
            by_source.setdefault(source, []).append(key)
    named = "; ".join(f"{source}: {', '.join(keys)}" for source, keys in by_source.items())
    return f" (set by {named})" if named else ""


def _names_key(message: str, key: str, raw: dict[str, Any]) -> bool:
    """Whether an error names ``key``, or a section of it that only the override made
    (``'a'`` for ``a.b`` when the file has no ``a``)."""
    message = re.sub(r"\(did you mean '[^']*'\?\)", "", message)
    parts = key.split(".")
    if f"'{key}'" in message:
        return True
    node: Any = raw
    for n in range(1, len(parts)):
        node = node.get(parts[n - 1]) if isinstance(node, dict) else None
        if node is None:  # the override made this section
            return f"'{'.'.join(parts[:n])}'" in message
    return False


def _deep_copy(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _deep_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_deep_copy(v) for v in obj]
    return obj


def _format_validation(err: ValidationError, source: str) -> str:
    parts = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            parts.append(unknown_key_message(Config, tuple(e["loc"])))
        elif e["type"] == "missing":
            parts.append(f"'{loc}' is required")
        elif str(e["loc"][-1] if e["loc"] else "") == "url":
            # a database URL's message shows it without its password: never echo the input
            parts.append(f"'{loc}': {e['msg'].removeprefix('Value error, ')}")
        else:
            parts.append(f"'{loc}': {_message_with_input(e)}")
    return f"config {source}: " + "; ".join(parts)


def _message_with_input(error: Any) -> str:
    """A validation error's message and the value given, unless the message names it
    (a time says ``got '25:00'`` where YAML 1.1 gave 1500) or the value is a whole
    section (its own check names the values at fault)."""
    text = str(error["msg"]).removeprefix("Value error, ")
    given = error.get("input")
    if isinstance(given, dict) or re.search(r"\bgot\b", text):
        return text
    return f"{text} (got {given!r})"


def config_from_dict(
    raw: dict[str, Any], *, base_dir: Path, source: str = "<dict>", stem: str | None = None
) -> Config:
    """Validate a raw mapping into a :class:`Config`.

    Parameters
    ----------
    raw
        The mapping (as parsed from YAML).
    base_dir
        Folder that relative input paths are resolved against.
    source
        Name used in error messages.
    stem
        The config file's name without its suffixes: with the county's name it makes
        the slug when the mapping gives neither ``county.slug`` nor ``county.code`` (see
        :func:`planner.slugs.default_slug`).

    Returns
    -------
    Config
        The validated config with absolute input paths and ``county.slug`` set.

    Raises
    ------
    ConfigError
        The mapping is not a valid config, or it gives no slug and none can be made
        from its code, name or ``stem``.
    """
    _check_mapping(raw, source)
    try:
        cfg = Config.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_validation(err, source)) from None
    if cfg.county.slug is None:
        slug = default_slug(cfg.county.name, code=cfg.county.code, stem=stem)
        if slug is None:
            raise ConfigError(no_slug_message(f"config {source}", cfg.county.name, stem))
        logger.debug("county %s: slug %r (no county.slug given)", cfg.county.name, slug)
        cfg.county.slug = slug
    _resolve_paths(cfg, base_dir)
    return cfg


def _check_mapping(raw: object, source: str) -> None:
    """Stop unless the YAML's top level is a mapping (of sections)."""
    if not isinstance(raw, dict):
        msg = f"config {source}: expected a mapping of sections at the top level"
        raise ConfigError(msg)


def _resolve_paths(cfg: Config, base_dir: Path) -> None:
    """Make the relative paths of the inputs, and the Overpass cache, absolute."""
    for section in (
        cfg.inputs.boundaries,
        cfg.inputs.osm,
        cfg.inputs.population,
        cfg.inputs.substations,
        *cfg.inputs.outlets,
        *cfg.inputs.chargers,
        *cfg.inputs.grid_substations,
        *cfg.inputs.grid_lines,
    ):
        if section is not None and section.path is not None and not section.path.is_absolute():
            section.path = (base_dir / section.path).resolve()
    if not cfg.inputs.osm.cache_dir.is_absolute():
        cfg.inputs.osm.cache_dir = (base_dir / cfg.inputs.osm.cache_dir).resolve()


def load_config(
    path: str | Path,
    *,
    overrides: list[str] | None = None,
    overrides_from: str | Sequence[str] = "--set",
) -> Config:
    """Read, override and validate a county config file.

    Parameters
    ----------
    path
        The YAML file.
    overrides
        ``section.field=value`` strings applied before validation, in order (a key set
        twice takes the last value).
    overrides_from
        Where the overrides come from, named in an error about a field they set
        (``(set by --vary: stations.budgt)``): one name for all (``"--set"``, ``"the
        batch file"``), or one per override, in the order of ``overrides`` (``["--set",
        "--year 2026", "--year 2026"]``).

    Returns
    -------
    Config
        The validated config.
    """
    path = Path(path)
    if not path.is_file():
        problem = "is a folder, not a file" if path.is_dir() else "file not found"
        msg = f"config {path}: {problem}"
        raise ConfigError(msg)
    try:
        raw = read_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        msg = f"config {path}:{where} not valid YAML ({getattr(err, 'problem', err)})"
        raise ConfigError(msg) from None
    except UnicodeDecodeError:
        msg = f"config {path}: not UTF-8 text"
        raise ConfigError(msg) from None
    raw = raw or {}
    _check_mapping(raw, str(path))
    sources = override_sources(overrides or [], overrides_from)
    raw_before, raw = raw, apply_overrides(raw, overrides or [], sources=sources)
    stem = path.name.split(".")[0]
    try:
        return config_from_dict(raw, base_dir=path.parent.resolve(), source=str(path), stem=stem)
    except ConfigError as err:
        blame = _blame(str(err), overrides or [], sources, raw_before)
        if not blame:
            raise
        msg = f"{err}{blame}"
        raise ConfigError(msg) from None
