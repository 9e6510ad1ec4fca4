"""ACTIVATE_VERSION for full-table streams, structured logging, and BATCH refused.

With ``emit_activate_version_messages`` on, a full-table stream (``cards``) announces its new table
version before its first record and again after its last, every record carries that version, and
incremental streams send none; a target that processes the message then drops rows of older
versions (cards that were unlinked). Off (the default, as in singer-sdk) nothing changes.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.sql import SQLConnector, SQLSink, SQLTarget

from tap_trastpay.tap import TapTrastpay

from .tap_harness import TAP_EXECUTABLE, run_tap, write_catalog


def _stream_messages(messages: list[dict[str, Any]], stream: str) -> list[dict[str, Any]]:
    return [m for m in messages if m.get("stream") == stream and m["type"] in ("RECORD", "ACTIVATE_VERSION")]


def test_given_activate_version_on_when_synced_then_cards_are_framed_by_one_table_version(
    tap_config: dict[str, Any],
) -> None:
    result = run_tap({**tap_config, "emit_activate_version_messages": True})

    cards = _stream_messages(result.messages, "cards")
    assert cards[0]["type"] == "ACTIVATE_VERSION"
    assert cards[-1]["type"] == "ACTIVATE_VERSION"
    version = cards[0]["version"]
    assert cards[-1]["version"] == version
    records = cards[1:-1]
    assert records
    assert all(m["type"] == "RECORD" and m["version"] == version for m in records)
    incremental = [m for m in result.messages if m["type"] == "ACTIVATE_VERSION" and m["stream"] != "cards"]
    assert incremental == []


def test_given_activate_version_off_when_synced_then_no_message_and_no_record_version(
    tap_config: dict[str, Any],
) -> None:
    result = run_tap(tap_config)

    assert not [m for m in result.messages if m["type"] == "ACTIVATE_VERSION"]
    assert all("version" not in m for m in result.messages if m["type"] == "RECORD")


def test_given_a_batch_config_when_the_tap_starts_then_it_is_refused_naming_the_setting(
    tap_config: dict[str, Any],
) -> None:
    batch = {"encoding": {"format": "jsonl"}, "storage": {"root": "file:///tmp"}}

    with pytest.raises(ConfigValidationError) as raised:
        TapTrastpay(config={**tap_config, "batch_config": batch}, parse_env_config=False)

    assert "Invalid config field 'batch_config'" in raised.value.errors[0]


def test_given_singer_sdk_structured_logging_config_when_run_then_every_log_line_is_json(
    tap_config: dict[str, Any], tmp_path: Path
) -> None:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(tap_config), encoding="utf-8")
    write_catalog(tap_config, tmp_path / "catalog.json", {"cards"})
    logging_config = tmp_path / "logging.yaml"
    logging_config.write_text(
        "version: 1\n"
        "disable_existing_loggers: false\n"
        "formatters:\n  structured:\n    (): singer_sdk.logging.StructuredFormatter\n"
        "handlers:\n  console:\n    class: logging.StreamHandler\n    formatter: structured\n"
        "    stream: ext://sys.stderr\n"
        "root:\n  level: INFO\n  handlers: [console]\n",
        encoding="utf-8",
    )

    done = subprocess.run(
        [str(TAP_EXECUTABLE), "--config", str(config_path), "--catalog", str(tmp_path / "catalog.json")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SINGER_SDK_LOG_CONFIG": str(logging_config)},
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines
    parsed = [json.loads(line) for line in lines]
    assert any("cards" in str(entry.get("message", "")) for entry in parsed)
    assert tap_config["refresh_token"] not in done.stderr


class _SQLiteConnector(SQLConnector):
    allow_temp_tables = False
    allow_column_alter = False

    def get_sqlalchemy_url(self, config: dict[str, Any]) -> str:
        return f"sqlite:///{config['path']}"


class _SQLiteSink(SQLSink):  # type: ignore[type-arg]
    connector_class = _SQLiteConnector


class _SQLiteTarget(SQLTarget):
    """singer-sdk's own SQL target machinery on SQLite: it processes ACTIVATE_VERSION like target-postgres."""

    name = "target-sqlite-activate-version"
    config_jsonschema = th.PropertiesList(th.Property("path", th.StringType, required=True)).to_dict()
    default_sink_class = _SQLiteSink


def _load(messages: list[dict[str, Any]], database: Path) -> None:
    target = _SQLiteTarget(config={"path": str(database), "hard_delete": True, "add_record_metadata": True})
    target.listen(io.StringIO("".join(json.dumps(m) + "\n" for m in messages)))


def test_given_a_card_gone_from_the_next_full_sync_when_the_target_activates_the_version_then_its_row_drops(
    tap_config: dict[str, Any], tmp_path: Path
) -> None:
    config = {**tap_config, "emit_activate_version_messages": True}
    catalog = tmp_path / "catalog.json"
    write_catalog(config, catalog, {"cards"})
    database = tmp_path / "warehouse.sqlite"
    first = run_tap(config, catalog=catalog)
    cards = [m["record"]["card_token"] for m in first.messages if m["type"] == "RECORD"]
    assert len(cards) >= 2
    gone = cards[0]
    # singer-sdk's table version is the sync's start in whole seconds: the next sync is a new
    # version only from the next second on (real syncs are minutes or days apart).
    version = next(m["version"] for m in first.messages if m["type"] == "ACTIVATE_VERSION")
    while time.time() < version + 1:
        time.sleep(0.05)
    # The second sync no longer sees one card, as after an unlink: a stream map filters it out.
    second = run_tap(
        {**config, "stream_maps": {"cards": {"__filter__": f"card_token != '{gone}'"}}}, catalog=catalog
    )

    _load(first.messages, database)
    with sqlite3.connect(database) as connection:
        after_first = {row[0] for row in connection.execute("select card_token from cards")}
    _load(second.messages, database)
    with sqlite3.connect(database) as connection:
        after_second = {row[0] for row in connection.execute("select card_token from cards")}

    assert after_first == set(cards)
    assert after_second == set(cards) - {gone}
