"""The inputs of a direct ``read``: its arguments, config, configured catalog and state files.

:func:`read_request` recognises a plain ``read --config C --catalog K [--state S]`` (each flag once,
as ``--flag value`` or ``--flag=value``, in any order); :func:`load_inputs` reads the three files.
Whatever either does not recognise exactly (another flag, an abbreviation, a file that is missing,
empty or not JSON, a catalog or state document the protocol's models might read differently, a
GLOBAL or legacy state, airbyte-cdk's internal config keys) answers None: the CDK path then reads
it and reports it in its own words, before anything is written. Nothing here imports airbyte-cdk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from source_trastpay.answers import CDK_INTERNAL_KEYS

__all__ = ["ConfiguredStream", "ReadInputs", "ReadRequest", "load_inputs", "read_request"]

_FLAGS = ("--config", "--catalog", "--state")


@dataclass(frozen=True, slots=True)
class ReadRequest:
    config_path: str
    catalog_path: str
    state_path: str | None


@dataclass(frozen=True, slots=True)
class ConfiguredStream:
    """One entry of the configured catalog, as far as the read uses it."""

    name: str
    namespace: str | None
    incremental: bool


@dataclass(frozen=True, slots=True)
class ReadInputs:
    config: dict[str, Any]
    streams: list[ConfiguredStream]
    states: dict[tuple[str, str | None], dict[str, Any]]
    """Stored state blob per (stream name, namespace), as airbyte-cdk's state manager keys it."""


def read_request(argv: list[str]) -> ReadRequest | None:
    """The three paths of a plain ``read`` invocation, or None when the CDK path must parse ``argv``."""
    if not argv or argv[0] != "read":
        return None
    found: dict[str, str] = {}
    rest = argv[1:]
    while rest:
        head = rest.pop(0)
        flag, equals, value = head.partition("=")
        if flag not in _FLAGS or flag in found:
            return None
        if not equals:
            if not rest:
                return None
            value = rest.pop(0)
        if not value or value.startswith("-"):
            return None
        found[flag] = value
    if "--config" not in found or "--catalog" not in found:
        return None
    return ReadRequest(found["--config"], found["--catalog"], found.get("--state"))


def _json_file(path: str) -> tuple[bool, Any]:
    try:
        with open(path, encoding="utf-8") as file:
            return True, json.load(file)
    except (OSError, ValueError):
        return False, None


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_key_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_str_list(item) for item in value)


_SYNC_MODES = ("full_refresh", "incremental")
_DESTINATION_MODES = ("append", "overwrite", "append_dedup", "update", "soft_delete")
_STREAM_FIELDS: dict[str, Any] = {
    "source_defined_cursor": lambda v: v is None or isinstance(v, bool),
    "default_cursor_field": lambda v: v is None or _is_str_list(v),
    "source_defined_primary_key": lambda v: v is None or _is_key_list(v),
    "namespace": lambda v: v is None or isinstance(v, str),
    "is_resumable": lambda v: v is None or isinstance(v, bool),
    "is_file_based": lambda v: v is None or isinstance(v, bool),
}
_CONFIGURED_FIELDS: dict[str, Any] = {
    "cursor_field": lambda v: v is None or _is_str_list(v),
    "destination_object_name": lambda v: v is None or isinstance(v, str),
    "primary_key": lambda v: v is None or _is_key_list(v),
    "generation_id": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
    "minimum_generation_id": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
    "sync_id": lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool)),
    "include_files": lambda v: v is None or isinstance(v, bool),
}


def _configured_stream(entry: Any) -> ConfiguredStream | None:
    if not isinstance(entry, dict):
        return None
    stream = entry.get("stream")
    if not isinstance(stream, dict):
        return None
    name, schema, modes = stream.get("name"), stream.get("json_schema"), stream.get("supported_sync_modes")
    if not isinstance(name, str) or not isinstance(schema, dict) or not isinstance(modes, list):
        return None
    if any(mode not in _SYNC_MODES for mode in modes):
        return None
    for key, value in stream.items():
        if key not in ("name", "json_schema", "supported_sync_modes") and not _STREAM_FIELDS.get(
            key, lambda _: False
        )(value):
            return None
    sync_mode, destination = entry.get("sync_mode"), entry.get("destination_sync_mode")
    if sync_mode not in _SYNC_MODES or destination not in _DESTINATION_MODES:
        return None
    for key, value in entry.items():
        if key not in ("stream", "sync_mode", "destination_sync_mode") and not _CONFIGURED_FIELDS.get(
            key, lambda _: False
        )(value):
            return None
    return ConfiguredStream(name, stream.get("namespace"), sync_mode == "incremental")


def _catalog(document: Any) -> list[ConfiguredStream] | None:
    if not isinstance(document, dict) or set(document) != {"streams"}:
        return None
    entries = document["streams"]
    if not isinstance(entries, list):
        return None
    streams = [_configured_stream(entry) for entry in entries]
    return None if any(stream is None for stream in streams) else streams  # type: ignore[return-value]


def _states(document: Any) -> dict[tuple[str, str | None], dict[str, Any]] | None:
    """Per-stream states of a STREAM-type state list; None for anything else (GLOBAL, LEGACY, a dict)."""
    if not document:
        return {}  # airbyte-cdk reads an empty list, object or null as "no state"
    if not isinstance(document, list):
        return None
    states: dict[tuple[str, str | None], dict[str, Any]] = {}
    for message in document:
        if not isinstance(message, dict) or message.get("type") != "STREAM":
            return None
        if not set(message) <= {"type", "stream", "sourceStats", "destinationStats"}:
            return None
        for stats in ("sourceStats", "destinationStats"):
            value = message.get(stats)
            if value is not None and not (
                isinstance(value, dict)
                and set(value) <= {"recordCount"}
                and isinstance(value.get("recordCount", 0), (int, float))
                and not isinstance(value.get("recordCount", 0), bool)
            ):
                return None
        stream = message.get("stream")
        if not isinstance(stream, dict) or not set(stream) <= {"stream_descriptor", "stream_state"}:
            return None
        descriptor, blob = stream.get("stream_descriptor"), stream.get("stream_state")
        if not isinstance(descriptor, dict) or not set(descriptor) <= {"name", "namespace"}:
            return None
        name, namespace = descriptor.get("name"), descriptor.get("namespace")
        if not isinstance(name, str) or not (namespace is None or isinstance(namespace, str)):
            return None
        if blob is not None and not isinstance(blob, dict):
            return None
        states[(name, namespace)] = blob or {}
    return states


def load_inputs(request: ReadRequest) -> ReadInputs | None:
    """The config, catalog and state of ``request``, or None when the CDK path must read them."""
    ok, config = _json_file(request.config_path)
    if not ok or not isinstance(config, dict) or CDK_INTERNAL_KEYS & config.keys():
        return None
    ok, catalog = _json_file(request.catalog_path)
    streams = _catalog(catalog) if ok else None
    if streams is None:
        return None
    states: dict[tuple[str, str | None], dict[str, Any]] | None = {}
    if request.state_path is not None:
        ok, document = _json_file(request.state_path)
        states = _states(document) if ok else None
    if states is None:
        return None
    return ReadInputs(config, streams, states)
