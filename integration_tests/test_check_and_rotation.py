"""`check` against a live sandbox, and token rotation through the installed `source-trastpay` command.

check: every failure a user can cause (refused token, wrong device, unreachable host, invalid
setting) is one FAILED connection status with a message naming the problem, never a crash.
Rotation: the CONNECTOR_CONFIG control message reaches stdout before any record, the config it
carries works for the next run, and the spent token is not accepted again.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from source_trastpay import SourceTrastpay
from source_trastpay.run import TrastpayEntrypoint
from trastpay_sandbox.testing import SandboxServer

from .acceptance import ConfigFactory, load_catalog, load_placeholder_config

SOURCE_COMMAND = Path(sys.executable).parent / "source-trastpay"


def _run_in_process(args: list[str]) -> list[dict[str, Any]]:
    """The console script's entrypoint, in this process (its stdout is the list returned)."""
    entrypoint = TrastpayEntrypoint(SourceTrastpay())
    return [json.loads(line) for line in entrypoint.run(entrypoint.parse_args(args))]


def _check(config: dict[str, Any], tmp_path: Path) -> tuple[str, str]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    messages = _run_in_process(["check", "--config", str(path)])
    statuses = [m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS"]
    errors = [m for m in messages if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert len(statuses) == 1
    assert errors == []
    return statuses[0]["status"], statuses[0].get("message") or ""


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_given_fresh_login_when_checked_then_succeeded(fresh_config: ConfigFactory, tmp_path: Path) -> None:
    assert _check(fresh_config(device_id="check-ok"), tmp_path) == ("SUCCEEDED", "")


def test_given_refresh_token_never_issued_when_checked_then_failed_asking_for_a_new_login(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = {**load_placeholder_config("invalid_config.json"), "base_url": sandbox.api_url}

    status, message = _check(config, tmp_path)

    assert status == "FAILED"
    assert "refused the refresh token" in message
    assert "Log in again" in message
    assert config["refresh_token"] not in message


def test_given_token_of_another_device_when_checked_then_failed_naming_device_mismatch(
    fresh_config: ConfigFactory, tmp_path: Path
) -> None:
    config = {**fresh_config(device_id="phone-of-the-user"), "device_id": "warehouse-runner"}

    status, message = _check(config, tmp_path)

    assert status == "FAILED"
    assert "device-mismatch" in message
    assert "'warehouse-runner'" in message


def test_given_unreachable_host_when_checked_then_failed_naming_the_url(tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}/api/v1/trastpay"
    config = {**load_placeholder_config("sample_config.json"), "base_url": base_url, "max_retries": 0}

    status, message = _check(config, tmp_path)

    assert status == "FAILED"
    assert f"Could not connect to {base_url}" in message


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"start_date": "2099-01-01"}, "start_date"),
        ({"pii_mode": "hash"}, "pii_hash_key"),
        ({"card_tokens": ["crd_a", "crd_a"]}, "card_tokens"),
        ({"page_size": 0}, "page_size"),
    ],
)
def test_given_invalid_setting_when_checked_then_failed_naming_the_field(
    sandbox: SandboxServer, tmp_path: Path, override: dict[str, Any], field: str
) -> None:
    config = {**load_placeholder_config("sample_config.json"), "base_url": sandbox.api_url, **override}

    status, message = _check(config, tmp_path)

    assert status == "FAILED"
    assert message.startswith(f"Invalid config field '{field}'")


def _run_command(*args: str) -> list[dict[str, Any]]:
    environment = {**os.environ, "PYTHONUNBUFFERED": "1"}
    completed = subprocess.run(
        [str(SOURCE_COMMAND), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


def _published_configs(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        m["control"]["connectorConfig"]["config"]
        for m in messages
        if m["type"] == "CONTROL" and m["control"]["type"] == "CONNECTOR_CONFIG"
    ]


def _status(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS")


def test_given_console_script_when_token_rotates_then_platform_gets_a_config_that_works_next_time(
    fresh_config: ConfigFactory, tmp_path: Path
) -> None:
    original = fresh_config(device_id="rotation-device")
    first_path, second_path = tmp_path / "first.json", tmp_path / "second.json"
    first_path.write_text(json.dumps(original), encoding="utf-8")
    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(json.dumps({"streams": [_catalog_entry("cards")]}), encoding="utf-8")

    checked = _run_command("check", "--config", str(first_path))
    assert _status(checked)["status"] == "SUCCEEDED"
    assert _published_configs(checked) == [], "check never spends the refresh token"

    synced = _run_command("read", "--config", str(first_path), "--catalog", str(catalog_path))
    updated = _published_configs(synced)
    types = [m["type"] for m in synced]
    assert "RECORD" in types
    assert types.index("CONTROL") < types.index("RECORD"), "the new token is published before data flows"
    assert not [m for m in synced if m["type"] == "TRACE" and m["trace"]["type"] == "ERROR"]
    assert len(updated) == 1
    assert updated[0]["refresh_token"] != original["refresh_token"]
    assert updated[0]["access_token"]
    unchanged = ("refresh_token", "access_token", "token_expiry_date")
    assert {k: v for k, v in updated[0].items() if k not in unchanged} == {
        k: v for k, v in original.items() if k not in unchanged
    }

    second_path.write_text(json.dumps(updated[0]), encoding="utf-8")
    assert _run_command("read", "--config", str(second_path), "--catalog", str(catalog_path))
    status, message = _check(original, tmp_path)
    assert status == "FAILED", "the first read spent the original token"
    assert "(spent)" in message, "check found out without presenting the spent token"


def _catalog_entry(name: str) -> dict[str, Any]:
    catalog = load_catalog([name])
    stream = catalog.streams[0]
    return {
        "stream": {"name": stream.stream.name, "json_schema": {}, "supported_sync_modes": ["full_refresh"]},
        "sync_mode": "full_refresh",
        "destination_sync_mode": "overwrite",
    }
