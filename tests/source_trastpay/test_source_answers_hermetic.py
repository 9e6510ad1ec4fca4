"""Hermetic tests of the direct answers' rarer paths: secrets in log lines, a crash mid-check, hand-overs.

The core session is replaced by a scripted fake (no network); the messages are still validated
against the Airbyte protocol's models.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from airbyte_protocol.models import AirbyteMessage as ProtocolMessage

import trastpay.session as session_module
from source_trastpay.console import answer
from trastpay.auth import TokenGrant
from trastpay.config import TrastpayConfig

CONFIG = {
    "base_url": "http://127.0.0.1:9/api/v1/trastpay",
    "client_id": "trastpay-connectors",
    "device_id": "hermetic-device",
    "refresh_token": "hermetic-refresh-token-0001",
    "start_date": "2026-08-01",
}
ROTATED = "hermetic-rotated-token-0002"
GRANT = TokenGrant(ROTATED, "hermetic-access-token-0002", datetime(2026, 8, 1, 12, 0, tzinfo=UTC))


class ScriptedSession:
    """Rotates the token (the core's check never does; the answer must still publish it first), logs a
    line quoting both tokens, then fails as scripted."""

    failure: ClassVar[BaseException | None] = None

    def __init__(self, config: TrastpayConfig, on_rotate: Callable[[TokenGrant], None], **_: Any) -> None:
        self._config = config
        self._on_rotate = on_rotate

    def check_without_rotation(self) -> None:
        self._on_rotate(GRANT)
        logging.getLogger("trastpay.audit").info("spent %s, now %s", self._config.refresh_token, ROTATED)
        if ScriptedSession.failure is not None:
            raise ScriptedSession.failure

    def close(self) -> None:
        """Nothing to release."""


@pytest.fixture(autouse=True)
def scripted(monkeypatch: pytest.MonkeyPatch) -> None:
    ScriptedSession.failure = None
    monkeypatch.setattr(session_module, "TrastpaySession", ScriptedSession)


def _run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: dict[str, Any]
) -> tuple[int | None, list[Any]]:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    code = answer(["check", "--config", str(path)])
    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    for message in messages:
        ProtocolMessage.model_validate(message)
    return code, messages


def test_given_rotation_and_log_line_quoting_tokens_when_checked_then_control_first_and_tokens_hidden(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, messages = _run(tmp_path, capsys, CONFIG)

    assert code == 0
    assert [m["type"] for m in messages] == ["CONTROL", "LOG", "LOG", "CONNECTION_STATUS"]
    assert messages[0]["control"]["connectorConfig"]["config"] == {**CONFIG, **GRANT.config_fields()}
    assert messages[1]["log"] == {"level": "INFO", "message": "spent ****, now ****"}
    assert messages[2]["log"] == {"level": "INFO", "message": "Check succeeded"}
    assert messages[3]["connectionStatus"] == {"status": "SUCCEEDED"}


def test_given_unexpected_exception_mid_check_when_answered_then_fatal_log_and_system_error_trace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ScriptedSession.failure = KeyError(f"bug near {ROTATED}")

    code, messages = _run(tmp_path, capsys, CONFIG)

    assert code == 1
    assert [m["type"] for m in messages] == ["CONTROL", "LOG", "LOG", "TRACE"]
    assert messages[2]["log"]["level"] == "FATAL"
    error = messages[3]["trace"]["error"]
    assert error["failure_type"] == "system_error"
    assert "KeyError" in error["stack_trace"]
    assert ROTATED not in json.dumps(messages[1:])
    assert GRANT.access_token not in json.dumps(messages[1:])


@pytest.mark.parametrize("key", ["_limit", "_page_size"])
def test_given_cdk_internal_key_in_config_when_answered_then_left_to_the_cdk_path(
    tmp_path: Path, key: str
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**CONFIG, key: 10}), encoding="utf-8")

    assert answer(["check", "--config", str(path)]) is None
    assert answer(["discover", "--config", str(path)]) is None
