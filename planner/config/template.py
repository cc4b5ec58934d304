"""A new county's config: a commented YAML template with every field, and the JSON Schema.

The template is generated from the schema itself, so it never goes stale: every section
with its docstring, every field with its description and default, the required ones filled
in from what the user gave (``planner init``) or marked ``TODO``.
"""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from planner.config.schema import Config

#: Written where a required value is still to be given.
TODO = "TODO"


def config_schema() -> dict[str, Any]:
    """The JSON Schema of a county config (for editors: completion and checks)."""
    schema = Config.model_json_schema()
    schema["title"] = "Rural charging planner: county config"
    return schema


def template_yaml(values: dict[str, Any]) -> str:
    """A commented YAML config with every field: ``values`` (dotted keys) over the defaults.

    Parameters
    ----------
    values
        Fields to fill in, e.g. ``{"county.name": "婺源县", "inputs.osm.path": "x.pbf"}``;
        required fields not given are written as ``TODO``.

    Returns
    -------
    str
        The YAML text, one comment line per field (description and default).
    """
    lines = [
        "# County config for the rural charging planner (every field with its default).",
        "# Fill in the TODO values; delete the lines you do not need (defaults apply).",
        "# Schema for editors: `planner schema --out planner.schema.json`.",
        "",
    ]
    lines += _model_lines(Config, "", values, indent=0)
    return "\n".join(lines) + "\n"


def _model_lines(
    model: type[BaseModel], prefix: str, values: dict[str, Any], *, indent: int
) -> list[str]:
    """The lines of one section: a comment and a value (or a sub-section) per field."""
    pad = "  " * indent
    out: list[str] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        sub = _section_type(field)
        if sub is not None and key not in values:
            doc = (sub.__doc__ or "").strip().splitlines()[0] if sub.__doc__ else ""
            out.append(f"{pad}# {doc}" if doc else f"{pad}#")
            body = [f"{pad}{name}:", *_model_lines(sub, f"{key}.", values, indent=indent + 1)]
            if field.default is None and not any(k.startswith(f"{key}.") for k in values):
                # an optional section: shown, commented out, to be switched on by the user
                body = [f"{pad}# {line[len(pad) :]}" for line in body]
            out += body
            continue
        out.append(f"{pad}# {_comment(field)}")
        out.append(f"{pad}{name}: {_yaml_value(_value(field, key, values))}")
    return out


def _section_type(field: FieldInfo) -> type[BaseModel] | None:
    """The section model of a field that holds one (possibly optional), else None.

    A list of sections (e.g. ``inputs.outlets``) is a value (``[]`` by default).
    """
    if typing.get_origin(field.annotation) is list:
        return None
    for t in (field.annotation, *typing.get_args(field.annotation)):
        if isinstance(t, type) and issubclass(t, BaseModel):
            return t
    return None


def _value(field: FieldInfo, key: str, values: dict[str, Any]) -> Any:
    if key in values:
        return values[key]
    if field.default is not PydanticUndefined:
        return field.default
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]  # no validated-data factories here
    return TODO


def _comment(field: FieldInfo) -> str:
    text = " ".join((field.description or "").split())
    item = _list_item(field)
    if item is not None and item.__doc__:
        text = f"{text} A list of: {item.__doc__.strip().splitlines()[0]}".strip()
    required = field.default is PydanticUndefined and field.default_factory is None
    return f"{text} (required)" if required else text


def _list_item(field: FieldInfo) -> type[BaseModel] | None:
    """The section model of a list-of-sections field, else None."""
    args = typing.get_args(field.annotation)
    if typing.get_origin(field.annotation) is not list or not args:
        return None
    item = args[0]
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _yaml_value(value: Any) -> str:
    """One value as inline YAML (paths and model defaults as plain data)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, Path):
        value = str(value)
    data = json.loads(json.dumps(value, default=str, ensure_ascii=False))
    text = yaml.safe_dump([data], default_flow_style=True, allow_unicode=True, width=10_000)
    return text.strip()[1:-1]  # the value inside its one-item list (no document end marker)


def init_values(
    name: str, *, osm: Path | None = None, township_admin_level: int | None = None
) -> dict[str, Any]:
    """What ``planner init`` fills in: the name, and the OSM extract with its boundaries.

    Parameters
    ----------
    name
        The county's name, e.g. ``婺源县``.
    osm
        An OSM extract holding the county's boundary relations: roads, POIs and the
        county and township polygons all come from it.
    township_admin_level
        ``admin_level`` of the townships in that extract (8 in China).
    """
    values: dict[str, Any] = {"county.name": name, "stations.budget": TODO}
    if osm is not None:
        values["inputs.osm.path"] = str(osm)
        values["inputs.boundaries.source"] = "osm"
        values["inputs.boundaries.county_name"] = name
    if township_admin_level is not None:
        values["inputs.boundaries.township_admin_level"] = township_admin_level
    return values
