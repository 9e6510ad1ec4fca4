"""The OpenAPI contract: the hand-written ``openapi.yaml`` and its bundled, self-contained form.

``openapi.yaml`` keeps record shapes as relative ``$ref``s to ``../schemas/<stream>.json`` so the
stream schemas stay the single source of truth. Clients fetching ``/openapi.json`` or
``/openapi.yaml`` over HTTP cannot follow those file paths, so the served documents have each
such reference replaced by a ``#/components/schemas/<stream>`` entry holding the resolved schema.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import orjson
import yaml

from trastpay.schemas import load_schema

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
_FILE_REF_PREFIX = "../schemas/"


def load_raw_spec() -> dict[str, Any]:
    """``openapi.yaml`` as written (relative file references intact)."""
    document: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return document


def _bundle_node(node: Any, components: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_bundle_node(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_FILE_REF_PREFIX):
        file_part, _, pointer = ref[len(_FILE_REF_PREFIX) :].partition("#")
        if pointer.strip("/"):
            raise ValueError(f"openapi.yaml: only whole-file schema references are bundled, got {ref!r}")
        name = file_part.removesuffix(".json")
        if name not in components:
            components[name] = load_schema(name)
        return {**{k: v for k, v in node.items() if k != "$ref"}, "$ref": f"#/components/schemas/{name}"}
    return {key: _bundle_node(value, components) for key, value in node.items()}


@cache
def bundled_spec() -> dict[str, Any]:
    """The contract with every file reference inlined under ``components.schemas``."""
    raw = load_raw_spec()
    stream_schemas: dict[str, Any] = {}
    bundled: dict[str, Any] = _bundle_node(raw, stream_schemas)
    schemas = bundled.setdefault("components", {}).setdefault("schemas", {})
    for name, schema in stream_schemas.items():
        if name in schemas:
            raise ValueError(
                f"openapi.yaml: components.schemas.{name} clashes with the stream schema {name}.json"
            )
        schemas[name] = schema
    return bundled


@cache
def spec_json_bytes() -> bytes:
    return orjson.dumps(bundled_spec())


@cache
def spec_yaml_bytes() -> bytes:
    text = yaml.safe_dump(copy.deepcopy(bundled_spec()), sort_keys=False, allow_unicode=True)
    return text.encode("utf-8")


def _resolved(node: Any) -> Any:
    """``node`` with a local ``#/components/...`` reference followed (one level, repeatedly)."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = _raw_spec()
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


@cache
def _raw_spec() -> dict[str, Any]:
    return load_raw_spec()


def _operation(method: str, path: str) -> dict[str, Any]:
    try:
        found: dict[str, Any] = _raw_spec()["paths"][path][method.lower()]
    except KeyError:
        raise KeyError(f"openapi.yaml has no operation {method.upper()} {path}") from None
    return found


@cache
def query_names(method: str, path: str) -> frozenset[str]:
    """The query parameters the contract declares for one operation (the only ones accepted)."""
    parameters = (_resolved(p) for p in _operation(method, path).get("parameters", ()))
    return frozenset(p["name"] for p in parameters if p.get("in") == "query")


@cache
def body_fields(method: str, path: str) -> frozenset[str]:
    """The JSON body properties the contract declares for one operation (the only ones accepted)."""
    body = _resolved(_operation(method, path).get("requestBody", {}))
    schema = _resolved(body.get("content", {}).get("application/json", {}).get("schema", {}))
    branches = [_resolved(branch) for branch in schema.get("oneOf", ())] or [schema]
    return frozenset(name for branch in branches for name in branch.get("properties", {}))


def query_parameter_schema(name: str) -> dict[str, Any]:
    """The schema of a shared query parameter under ``components.parameters`` (e.g. ``PageSize``)."""
    schema: dict[str, Any] = _resolved(_raw_spec()["components"]["parameters"][name])["schema"]
    return schema
