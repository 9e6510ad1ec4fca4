"""Which streams an input catalog selects, for the SDK-free sync, or None to let singer-sdk decide.

The tap's catalog is static: ``tap-trastpay --discover`` (singer-sdk) prints one entry per core
stream, built from the core's schema, primary key and cursor. :func:`discovered_entry` builds the
same entry without singer-sdk (``tests/tap_trastpay/test_tap_native.py`` compares the two).

singer-sdk honours more of a catalog than stream selection: deselected properties are dropped
from every record, and a catalog's own schema, key properties or replication settings replace the
tap's. The SDK-free sync reproduces only the plain case, so :func:`selected_streams` answers only
for a catalog whose entries are the discovered ones apart from ``selected`` flags (stream level
true or false, property level true or absent); for anything else it answers None and the
invocation runs the singer-sdk path, which applies the catalog in full.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from trastpay.schemas import load_schema
from trastpay.streams import EMITTED_STREAMS, StreamDef

_EMITTED = {stream.name: stream for stream in EMITTED_STREAMS}


def _property_metadata(properties: Mapping[str, Any], breadcrumb: list[str]) -> list[dict[str, Any]]:
    found = []
    for name, field_schema in properties.items():
        key = [*breadcrumb, "properties", name]
        found.append({"breadcrumb": key, "metadata": {"inclusion": "available"}})
        found.extend(_property_metadata(field_schema.get("properties") or {}, key))
    return found


def discovered_entry(stream_def: StreamDef) -> dict[str, Any]:
    """The catalog entry ``tap-trastpay --discover`` prints for ``stream_def``."""
    schema = load_schema(stream_def.name)
    keys = list(stream_def.primary_key)
    cursor = stream_def.cursor_field
    automatic = {*keys, *([cursor] if cursor else [])}
    metadata: list[dict[str, Any]] = []
    for name, field_schema in schema.get("properties", {}).items():
        breadcrumb = ["properties", name]
        inclusion = "automatic" if name in automatic else "available"
        metadata.append({"breadcrumb": breadcrumb, "metadata": {"inclusion": inclusion}})
        metadata.extend(_property_metadata(field_schema.get("properties") or {}, breadcrumb))
    root: dict[str, Any] = {
        "inclusion": "available",
        "selected": True,
        "selected-by-default": True,
        "table-key-properties": keys,
    }
    if cursor:
        root["replication-key"] = cursor
        root["valid-replication-keys"] = [cursor]
    metadata.append({"breadcrumb": [], "metadata": root})
    entry: dict[str, Any] = {"tap_stream_id": stream_def.name}
    if cursor:
        entry["replication_key"] = cursor
    entry["replication_method"] = "INCREMENTAL" if cursor else "FULL_TABLE"
    entry["key_properties"] = keys
    entry["schema"] = schema
    entry["stream"] = stream_def.name
    entry["metadata"] = metadata
    return entry


def discovered_catalog() -> dict[str, Any]:
    """The whole discovered catalog, streams in singer-sdk's order (by name, sync_audit last)."""
    from tap_trastpay.rules import sync_order

    return {"streams": [discovered_entry(_EMITTED[name]) for name in sync_order(_EMITTED)]}


def _as_loaded(document: Any) -> Any:
    """``document`` as singer-sdk's loader reads it (floats as Decimal), for comparison."""
    return json.loads(json.dumps(document), parse_float=Decimal)


def _plain(entry: Mapping[str, Any]) -> tuple[dict[str, Any], bool] | None:
    """The entry without its ``selected`` flags, and whether the stream is selected; None if unusual."""
    metadata = entry.get("metadata")
    if not isinstance(metadata, list):
        return None
    selected = True
    plain_metadata = []
    for item in metadata:
        if not isinstance(item, dict) or set(item) != {"breadcrumb", "metadata"}:
            return None
        values = item["metadata"]
        if not isinstance(values, dict):
            return None
        values = dict(values)
        flag = values.pop("selected", None)
        if item["breadcrumb"] == []:
            if flag is not None and not isinstance(flag, bool):
                return None
            selected = flag is not False
            values["selected"] = True
        elif flag not in (None, True):
            return None
        plain_metadata.append({"breadcrumb": item["breadcrumb"], "metadata": values})
    return {**entry, "metadata": plain_metadata}, selected


def selected_streams(catalog: object) -> set[str] | None:
    """The streams a plain catalog selects (a stream it leaves out is not selected), else None."""
    if (
        not isinstance(catalog, dict)
        or set(catalog) != {"streams"}
        or not isinstance(catalog["streams"], list)
    ):
        return None
    selected: set[str] = set()
    seen: set[str] = set()
    for entry in catalog["streams"]:
        if not isinstance(entry, dict):
            return None
        name = entry.get("tap_stream_id")
        stream_def = _EMITTED.get(name) if isinstance(name, str) else None
        if stream_def is None or name in seen:
            return None
        seen.add(stream_def.name)
        plain = _plain(entry)
        if plain is None:
            return None
        document, is_selected = plain
        found, expected = _by_breadcrumb(document), _by_breadcrumb(_as_loaded(discovered_entry(stream_def)))
        if found is None or found != expected:
            return None
        if is_selected:
            selected.add(stream_def.name)
    return selected


def _by_breadcrumb(entry: Mapping[str, Any]) -> dict[str, Any] | None:
    """The entry with its metadata keyed by breadcrumb (order-free), or None if a breadcrumb repeats."""
    metadata = {json.dumps(item["breadcrumb"]): item["metadata"] for item in entry["metadata"]}
    if len(metadata) != len(entry["metadata"]):
        return None
    return {**entry, "metadata": metadata}
