"""The tap's own rules, free of singer-sdk: one implementation for both sync paths.

The singer-sdk adapter (:mod:`tap_trastpay.tap`, :mod:`tap_trastpay.streams`) and the SDK-free
sync (:mod:`tap_trastpay.native`) both call these, so a config, a state or a checkpoint is judged
the same way whichever path runs: which settings reach the core and how a bad one is reported,
how a Singer bookmark reads as a core state, when a checkpoint moves a bookmark, which streams
close with ACTIVATE_VERSION, the order the streams are synced in, and how the run's one core
session is opened on the token store.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

from tap_trastpay.tokens import TapTokens
from trastpay.config import CONFIG_SCHEMA, TrastpayConfig, parse_config
from trastpay.errors import ConfigError, StateError, TrastpayError
from trastpay.masking import clean_server_text
from trastpay.session import TrastpaySession
from trastpay.state import StreamState, moves_forward
from trastpay.streams import STREAMS_BY_NAME, SYNC_AUDIT, StreamDef

TAP_NAME = "tap-trastpay"
BOOKMARK_KEY = "replication_key_value"
STATE_MSG_FREQUENCY = 1000
"""Records of one stream between STATE messages (each carries the last core checkpoint)."""


def core_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the core knows; singer-sdk's own (stream maps, flattening...) stay out."""
    return {k: v for k, v in config.items() if k in CONFIG_SCHEMA["properties"]}


def config_problem(config: Mapping[str, Any]) -> str | None:
    """The one line that reports a bad config (``config_error: <setting>: <why>``), or None.

    The core's validation names the setting and never repeats its value (singer-sdk's schema
    check would quote it: a refresh token pasted into the wrong field). ``batch_config`` is
    refused: a BATCH file would be announced after the STATE that covers its records.
    """
    try:
        if config.get("batch_config"):
            why = "BATCH messages are not supported by tap-trastpay (docs/singer.md)"
            raise ConfigError("batch_config", why)
        parse_config(core_settings(config))
    except ConfigError as error:
        return f"{error.failure_type}: {error.message}"
    return None


def trastpay_config(config: Mapping[str, Any]) -> TrastpayConfig:
    """The validated core config (raises ``ConfigError`` naming the bad field)."""
    return parse_config(core_settings(config))


def config_file_problem(path: str) -> str | None:
    """Why a ``--config`` file cannot be used (one line, without its content), or None.

    singer-sdk merges the files with ``dict |=``, so a JSON list or a broken file would end in a
    Python traceback instead of a named error.
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        why = "cannot be read" if isinstance(exc, OSError) else "is not valid JSON"
        return f"config_error: {ConfigError('config', f'the --config file {why}').message}"
    if not isinstance(document, dict):
        reason = f"the --config file must hold a JSON object, not a {type(document).__name__}"
        return f"config_error: {ConfigError('config', reason).message}"
    return None


def error_line(error: TrastpayError) -> tuple[str, str]:
    """``(failure type, message)`` of the one line a core error ends a run with.

    Server-chosen parts are cleaned where they enter a message; this is the last guard.
    """
    return error.failure_type, clean_server_text(error.message, limit=2000)


def bookmarks_as_core_state(stream_def: StreamDef, singer_state: Mapping[str, Any]) -> dict[str, Any]:
    """Translate a Singer stream bookmark into the core's state shape (for its validation)."""
    if not stream_def.partitioned:
        value = singer_state.get(BOOKMARK_KEY)
        return {} if value is None else {"cursor": value}
    partitions: dict[str, Any] = {}
    for entry in singer_state.get("partitions", []) or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("context"), Mapping):
            raise TypeError("each entry of 'partitions' must be an object with a 'context' object")
        key = entry["context"].get(stream_def.partition_field)
        if key is not None and entry.get(BOOKMARK_KEY) is not None:
            partitions[str(key)] = {"cursor": entry[BOOKMARK_KEY]}
    return {"partitions": partitions}


def validate_incoming_state(state: Mapping[str, Any]) -> None:
    """Reject malformed bookmarks of the tap's streams with the core's clear ``StateError``."""
    for name, bookmark in (state or {}).get("bookmarks", {}).items():
        stream_def = STREAMS_BY_NAME.get(name)
        if stream_def is None or not isinstance(bookmark, Mapping):
            continue
        try:
            core_state = bookmarks_as_core_state(stream_def, bookmark)
        except TypeError as exc:
            raise StateError(f"State of stream '{name}': {exc}") from None
        StreamState.parse(stream_def, core_state)


def bookmark_in(state: Mapping[str, Any], replication_key: str | None) -> str | None:
    """The saved cursor in a stream or partition state, or None (start at start_date).

    A bookmark saved for another replication key is not this stream's position.
    """
    if replication_key is None:
        return None
    value = state.get(BOOKMARK_KEY)
    if value is None or state.get("replication_key", replication_key) != replication_key:
        return None
    return str(value)


def apply_checkpoint(state: MutableMapping[str, Any], replication_key: str, cursor: str) -> bool:
    """Move a stream or partition bookmark to a core checkpoint; never backwards. True when moved."""
    current = state.get(BOOKMARK_KEY)
    if not moves_forward(None if current is None else str(current), cursor):
        return False
    state["replication_key"] = replication_key
    state[BOOKMARK_KEY] = cursor
    return True


def emits_activate_version(stream_def: StreamDef, setting: object) -> bool:
    """ACTIVATE_VERSION only where a full read replaces the table (never the appended sync_audit)."""
    return stream_def.full_refresh_replaces and bool(setting)


def sync_order(names: Iterable[str]) -> list[str]:
    """Streams by name, with sync_audit last: it reports on the others."""
    ordered = sorted(names)
    if SYNC_AUDIT.name in ordered:
        ordered.remove(SYNC_AUDIT.name)
        ordered.append(SYNC_AUDIT.name)
    return ordered


def open_session(config: TrastpayConfig) -> TrastpaySession:
    """The run's one core session, starting from the token store's newest token."""
    tokens = TapTokens.for_config(config)
    try:
        config = tokens.starting_config(config)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ConfigError(
            "token_store_path", f"the token store cannot be created, locked or read there ({why})"
        ) from None
    return tokens.open_session(config)
