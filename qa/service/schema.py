"""JSON Schemas made from the response dataclasses (qa.answer.model), so the two cannot drift.

Every field is required and no other is allowed: what the description declares is exactly what
a response carries. A field's `metadata` adds to its schema (a minimum, a description).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", type(None): "null"}


def ref(cls: type) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{cls.__name__}"}


def components(*roots: type) -> dict[str, Any]:
    """The schemas of the dataclasses given and of every dataclass their fields hold, by name."""
    found: dict[str, Any] = {}
    pending = list(roots)
    while pending:
        cls = pending.pop()
        if cls.__name__ in found:
            continue
        found[cls.__name__] = object_schema(cls)
        pending += _nested(cls)
    return dict(sorted(found.items()))


def object_schema(cls: type) -> dict[str, Any]:
    """The schema of one dataclass: an object of exactly its fields."""
    hints = typing.get_type_hints(cls)
    properties = {
        f.name: {**type_schema(hints[f.name]), **f.metadata} for f in dataclasses.fields(cls)
    }
    schema: dict[str, Any] = {
        "type": "object",
        "required": list(properties),
        "properties": properties,
        "additionalProperties": False,
    }
    if cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("):
        schema["description"] = " ".join(cls.__doc__.split())
    return schema


def type_schema(hint: Any) -> dict[str, Any]:
    """The schema of a field's type: scalars, lists, literals, dataclasses and their unions."""
    origin = get_origin(hint)
    if hint in SCALARS:
        return {"type": SCALARS[hint]}
    if dataclasses.is_dataclass(hint):
        return ref(hint)
    if origin is Literal:
        return {"enum": list(get_args(hint))}
    if origin in (list, tuple):
        return {"type": "array", "items": type_schema(get_args(hint)[0])}
    if origin in (Union, types.UnionType):
        options = [type_schema(arg) for arg in get_args(hint)]
        if all(set(o) == {"type"} for o in options):
            return {"type": [o["type"] for o in options]}
        return {"oneOf": options}
    raise TypeError(f"no JSON Schema for {hint!r}")


def _nested(cls: type) -> list[type]:
    """The dataclasses that the fields of `cls` hold, at any depth of lists and unions."""
    out: list[type] = []
    pending = list(typing.get_type_hints(cls).values())
    while pending:
        hint = pending.pop()
        if dataclasses.is_dataclass(hint):
            out.append(hint)
        pending += get_args(hint)
    return out
