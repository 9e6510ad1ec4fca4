"""`check` never spends the refresh token: the config a check saw stays good for the next read.

Real `source-trastpay` processes against a real sandbox. Airbyte throws away what a creation-time
check publishes, and a scheduled sync may start its read with the config snapshot taken before its
check, so a check that rotated would hand the read a spent token (issue 13).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from trastpay.auth import format_expiry
from trastpay_sandbox.testing import SandboxServer

SOURCE = str(Path(sys.executable).parent / "source-trastpay")
CATALOG = Path(__file__).resolve().parents[2] / "integration_tests" / "configured_catalog.json"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=1, history_days=10) as server:
        yield server


def _counters(sandbox: SandboxServer) -> dict[str, int]:
    status, raw = sandbox.request("GET", "/_sandbox/tokens")
    assert status == 200
    counters: dict[str, int] = json.loads(raw)
    return counters


def _login_config(sandbox: SandboxServer, device: str) -> dict[str, Any]:
    tokens = sandbox.login(str(sandbox.customers()[0]["phone"]), device_id=device)
    expiry = datetime.now(UTC) + timedelta(seconds=int(tokens["expires_in"]))
    return {
        "base_url": sandbox.api_url,
        "client_id": "trastpay-connectors",
        "device_id": device,
        "refresh_token": tokens["refresh_token"],
        "access_token": tokens["access_token"],
        "token_expiry_date": format_expiry(expiry),
        "start_date": "2026-10-25",
    }


def _run(command: str, config: dict[str, Any], tmp_path: Path) -> list[dict[str, Any]]:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    argv = [SOURCE, command, "--config", str(config_path)]
    if command == "read":
        catalog = json.loads(CATALOG.read_text(encoding="utf-8"))
        catalog["streams"] = [s for s in catalog["streams"] if s["stream"]["name"] == "cards"]
        (tmp_path / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
        argv += ["--catalog", str(tmp_path / "catalog.json")]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _status(messages: list[dict[str, Any]]) -> dict[str, Any]:
    (status,) = [m["connectionStatus"] for m in messages if m["type"] == "CONNECTION_STATUS"]
    return dict(status)


def _records(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m["record"]["data"] for m in messages if m["type"] == "RECORD"]


def _controls(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in messages if m["type"] == "CONTROL"]


def test_given_a_valid_access_token_when_check_then_read_with_the_unchanged_config_then_both_succeed(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = _login_config(sandbox, "dev-check-then-read")
    before = _counters(sandbox)

    checked = _run("check", config, tmp_path)
    read = _run("read", config, tmp_path)  # the pre-check config, unchanged

    assert _status(checked)["status"] == "SUCCEEDED"
    assert _controls(checked) == []
    assert _records(read)
    after = _counters(sandbox)
    assert after["spent_presented"] == before["spent_presented"]
    assert after["refreshes"] == before["refreshes"]  # the login's access token served both


def test_given_an_expired_access_token_when_check_then_the_refresh_token_is_introspected_not_spent(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = _login_config(sandbox, "dev-expired-at-creation")
    sandbox.expire_tokens()  # the source was created after the login's access token expired
    before = _counters(sandbox)

    checked = _run("check", config, tmp_path)
    read = _run("read", config, tmp_path)

    assert _status(checked)["status"] == "SUCCEEDED"
    assert _controls(checked) == []
    after = _counters(sandbox)
    assert after["introspections"] == before["introspections"] + 1
    assert _records(read)
    assert after["spent_presented"] == before["spent_presented"]
    assert _counters(sandbox)["refreshes"] == before["refreshes"] + 1  # the read rotated once
    assert len(_controls(read)) == 1


def test_given_no_access_token_and_a_spent_refresh_token_when_check_then_failed_and_nothing_revoked(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    config = _login_config(sandbox, "dev-spent")
    stale = {k: v for k, v in config.items() if k not in ("access_token", "token_expiry_date")}
    rotated = _run("read", stale, tmp_path)  # no access token: the read rotates, stale is now spent
    (update,) = [m["control"]["connectorConfig"]["config"] for m in _controls(rotated)]
    before = _counters(sandbox)

    checked = _run("check", stale, tmp_path)

    status = _status(checked)
    assert status["status"] == "FAILED"
    assert "spent" in status["message"]
    assert _counters(sandbox)["spent_presented"] == before["spent_presented"]
    assert _counters(sandbox)["revoked_families"] == before["revoked_families"]
    assert _records(_run("read", update, tmp_path))  # the login still works from the newest config
