"""Load the JSON Schemas in ``schemas/`` with their shared fragments inlined.

Both adapters and the OpenAPI contract use these files; this loader turns them into the
self-contained draft-07 documents the SDKs expect: every ``$ref`` to ``shared/*.json`` is
replaced by the fragment, and a one-element ``allOf`` used to attach a description to a
``$ref`` is merged into a plain schema.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGED = Path(__file__).parent / "_schemas"
_SOURCE_TREE = Path(__file__).resolve().parent.parent / "schemas"


def schemas_dir() -> Path:
    """The folder holding the schema files: packaged copy in a wheel, ``schemas/`` in a checkout."""
    if _PACKAGED.is_dir():
        return _PACKAGED
    if _SOURCE_TREE.is_dir():
        return _SOURCE_TREE
    raise FileNotFoundError(f"Trastpay schemas not found in {_PACKAGED} or {_SOURCE_TREE}")


@cache
def _read(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((schemas_dir() / relative).read_text(encoding="utf-8"))
    return data


def _resolve(node: Any, base: str) -> Any:
    if isinstance(node, list):
        return [_resolve(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = _lookup(node["$ref"], base)
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return {**target, **_resolve(siblings, base)}
    resolved = {key: _resolve(value, base) for key, value in node.items() if key not in ("$id", "$schema")}
    all_of = resolved.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        merged = {**all_of[0], **{k: v for k, v in resolved.items() if k != "allOf"}}
        return merged
    return resolved


def _lookup(ref: str, base: str) -> dict[str, Any]:
    file_part, _, pointer = ref.partition("#")
    relative = str((Path(base).parent / file_part).as_posix()) if file_part else base
    document: Any = _read(relative)
    for token in [t for t in pointer.split("/") if t]:
        document = document[token]
    resolved: dict[str, Any] = _resolve(copy.deepcopy(document), relative)
    return resolved


@cache
def _load(name: str) -> dict[str, Any]:
    raw = _read(f"{name}.json")
    resolved: dict[str, Any] = _resolve(copy.deepcopy(raw), f"{name}.json")
    resolved.pop("definitions", None)
    return resolved


def load_schema(name: str) -> dict[str, Any]:
    """The resolved JSON Schema of a stream (a fresh copy the caller may change)."""
    return copy.deepcopy(_load(name))
