"""The connectors installed from the built wheel run against a sandbox, as their users run them.

``source-trastpay`` from the ``[airbyte]`` venv: spec, check (which only introspects the refresh
token: no rotation, no CONTROL message), read (which rotates it and hands the new config back as a
CONTROL message). ``tap-trastpay`` from the ``[singer]`` venv:
--about, --discover and a sync. The sandbox itself runs from the ``[sandbox]`` venv.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trastpay.streams import EMITTED_STREAMS
from trastpay_sandbox.testing import SandboxServer

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]

CLIENT_ID = "trastpay-connectors"
START_DATE = "2026-06-01"


def _run(command: list[str], cwd: Path) -> list[dict[str, Any]]:
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _config(sandbox: SandboxServer, device_id: str, tmp_path: Path) -> dict[str, Any]:
    phone = sandbox.customers()[0]["phone"]
    tokens = sandbox.login(phone, device_id=device_id, client_id=CLIENT_ID)
    return {
        "base_url": sandbox.api_url,
        "client_id": CLIENT_ID,
        "device_id": device_id,
        "refresh_token": tokens["refresh_token"],
        "start_date": START_DATE,
        "token_store_path": str(tmp_path / "refresh-token.json"),
    }


def _catalog(streams: dict[str, str]) -> dict[str, Any]:
    return {
        "streams": [
            {
                "stream": {
                    "name": name,
                    "json_schema": {},
                    "supported_sync_modes": ["full_refresh", "incremental"],
                },
                "sync_mode": mode,
                "destination_sync_mode": "append" if mode == "incremental" else "overwrite",
            }
            for name, mode in streams.items()
        ]
    }


def test_given_the_airbyte_runtime_when_spec_check_read_then_the_sandbox_is_synced(
    runtime_python: Callable[[str], Path], installed_sandbox: SandboxServer, tmp_path: Path
) -> None:
    source = runtime_python("airbyte").with_name("source-trastpay")
    config = _config(installed_sandbox, "packaging-airbyte", tmp_path)
    config.pop("token_store_path")
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")

    (spec,) = [m for m in _run([str(source), "spec"], tmp_path) if m["type"] == "SPEC"]
    assert "refresh_token" in spec["spec"]["connectionSpecification"]["properties"]

    checked = _run([str(source), "check", "--config", str(config_path)], tmp_path)
    (status,) = [m["connectionStatus"] for m in checked if m["type"] == "CONNECTION_STATUS"]
    assert status["status"] == "SUCCEEDED", status
    assert [m for m in checked if m["type"] == "CONTROL"] == []

    catalog_path = tmp_path / "catalog.json"
    catalog_path.write_text(
        json.dumps(_catalog({"cards": "full_refresh", "card_transactions": "incremental"})), encoding="utf-8"
    )
    read = _run([str(source), "read", "--config", str(config_path), "--catalog", str(catalog_path)], tmp_path)
    rotated = [m["control"]["connectorConfig"]["config"] for m in read if m["type"] == "CONTROL"]
    assert rotated, "the read rotated no token"
    assert rotated[-1]["refresh_token"] != config["refresh_token"]

    phone = installed_sandbox.customers()[0]["phone"]
    records = [m["record"] for m in read if m["type"] == "RECORD"]
    cards = {r["data"]["card_token"] for r in records if r["stream"] == "cards"}
    transactions = {r["data"]["id"] for r in records if r["stream"] == "card_transactions"}
    assert cards == {row["card_token"] for row in installed_sandbox.truth("cards", phone)}
    assert transactions == {row["id"] for row in installed_sandbox.truth("card_transactions", phone)}
    assert transactions
    assert any(m["type"] == "STATE" for m in read)


def test_given_the_singer_runtime_when_about_discover_sync_then_the_sandbox_is_synced(
    runtime_python: Callable[[str], Path], installed_sandbox: SandboxServer, tmp_path: Path
) -> None:
    tap = runtime_python("singer").with_name("tap-trastpay")
    config_path = tmp_path / "config.json"
    config_path.write_text(
        json.dumps(_config(installed_sandbox, "packaging-singer", tmp_path)), encoding="utf-8"
    )

    about = subprocess.run(
        [str(tap), "--about", "--format=json"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert about.returncode == 0, about.stderr
    assert "activate-version" in json.loads(about.stdout)["capabilities"]

    discovered = subprocess.run(
        [str(tap), "--config", str(config_path), "--discover"], cwd=tmp_path, capture_output=True, text=True
    )
    assert discovered.returncode == 0, discovered.stderr
    assert len(json.loads(discovered.stdout)["streams"]) == len(EMITTED_STREAMS)  # the API's 16 + sync_audit

    messages = _run([str(tap), "--config", str(config_path)], tmp_path)

    phone = installed_sandbox.customers()[0]["phone"]
    records = [m for m in messages if m["type"] == "RECORD"]
    transactions = {m["record"]["id"] for m in records if m["stream"] == "card_transactions"}
    assert transactions == {row["id"] for row in installed_sandbox.truth("card_transactions", phone)}
    assert {m["stream"] for m in records} >= {"cards", "transfers", "events"}
    assert messages[-1]["type"] == "STATE"
