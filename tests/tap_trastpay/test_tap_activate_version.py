"""ACTIVATE_VERSION for full-table streams, structured logging, and BATCH refused.

With ``emit_activate_version_messages`` on, a full-table stream (``cards``) announces its new table
version before its first record and again after its last, every record carries that version, and
incremental streams send none; a target that processes the message then drops rows of older
versions (cards that were unlinked). Off (the default, as in singer-sdk) nothing changes.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from singer_sdk.exceptions import ConfigValidationError
from tap_harness import TAP_EXECUTABLE, run_tap, write_catalog

from tap_trastpay.tap import TapTrastpay


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
