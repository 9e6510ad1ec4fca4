"""spec, check and discover answered without the CDK say what the CDK path says.

Each case runs the console script (``source-trastpay``, the direct answers) as a cold subprocess and
the CDK path (:func:`source_trastpay.run.run`) in this process on the same config, then compares
the messages one by one. Every direct message is also validated against the Airbyte protocol's
own pydantic models. Values that differ between any two runs (``emitted_at``, a rotated refresh
token, an audit line's duration and request hash) are normalised; nothing else is.
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
from airbyte_protocol.models import AirbyteMessage as ProtocolMessage

from source_trastpay.console import direct_request
from trastpay.auth import format_expiry
from trastpay_sandbox.testing import SandboxServer

SOURCE = Path(sys.executable).parent / "source-trastpay"
CLIENT_ID = "trastpay-connectors"
MEMORY_MONITOR = "MemoryMonitor instantiated"
AUDIT_KEYS = ("event", "method", "path", "status", "outcome", "attempt")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=1, history_days=30, seed=19) as server:
        yield server


def _logged_in_config(
    sandbox: SandboxServer, device_id: str, *, with_access_token: bool = False, **overrides: Any
) -> dict[str, Any]:
    phone = sandbox.customers()[0]["phone"]
    tokens = sandbox.login(phone, device_id=device_id, client_id=CLIENT_ID)
    config: dict[str, Any] = {
        "base_url": sandbox.api_url,
        "client_id": CLIENT_ID,
        "device_id": device_id,
        "refresh_token": tokens["refresh_token"],
        "start_date": "2026-01-01",
    }
    if with_access_token:  # check then lists the cards (without one it only introspects the token)
        expiry = datetime.now(UTC) + timedelta(seconds=int(tokens["expires_in"]))
        config["access_token"] = tokens["access_token"]
        config["token_expiry_date"] = format_expiry(expiry)
    return {**config, **overrides}


OFFLINE = {
    "base_url": "http://127.0.0.1:9/api/v1/trastpay",
    "client_id": CLIENT_ID,
    "device_id": "answers-device",
    "refresh_token": "answers-refresh-token-0001",
    "start_date": "2026-08-01",
}


def _write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def direct(argv: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """The console script's exit code and messages, from a cold process."""
    done = subprocess.run([str(SOURCE), *argv], capture_output=True, timeout=300, check=False)
    return done.returncode, [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]


def cdk(argv: list[str]) -> tuple[int, list[dict[str, Any]]]:
    """The CDK path's exit code and messages (``python -m source_trastpay.run``), from a cold process."""
    command = [sys.executable, "-m", "source_trastpay.run", *argv]
    done = subprocess.run(command, capture_output=True, timeout=300, check=False)
    return done.returncode, [json.loads(line) for line in done.stdout.decode().splitlines() if line.strip()]


def normalised(messages: list[dict[str, Any]]) -> list[Any]:
    """Messages with what legitimately differs between two runs replaced by placeholders."""
    kept: list[Any] = []
    for message in messages:
        if message["type"] == "LOG":
            text = message["log"]["message"]
            if text.startswith(MEMORY_MONITOR):
                continue  # the CDK's read-loop monitor announces itself; there is no read loop here
            if text.startswith('{"event"'):
                event = json.loads(text)
                kept.append(("LOG", message["log"]["level"], tuple(event.get(key) for key in AUDIT_KEYS)))
            else:
                kept.append(("LOG", message["log"]["level"], text))
            continue
        document = json.loads(json.dumps(message))
        for holder in (document.get("trace"), document.get("control")):
            if holder is not None:
                holder["emitted_at"] = 0
        if document["type"] == "CONTROL":
            config = document["control"]["connectorConfig"]["config"]
            config["refresh_token"] = "<rotated>"
            config["device_id"] = "<this run's login>"
        kept.append(document)
    return kept


def assert_protocol_messages(messages: list[dict[str, Any]]) -> None:
    """Each message is valid for the protocol's models and survives them unchanged."""
    for message in messages:
        model = ProtocolMessage.model_validate(message)
        assert model.model_dump(mode="json", exclude_none=True) == message


def _without(device_id: str | None, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` with a run's own device id (named in login hints) replaced by a placeholder."""
    if device_id is None:
        return messages
    return [json.loads(json.dumps(message).replace(device_id, "<device>")) for message in messages]


def assert_same_answers(
    argv: list[str], argv_cdk: list[str] | None = None, devices: tuple[str, str] | None = None
) -> list[dict[str, Any]]:
    direct_code, direct_messages = direct(argv)
    cdk_code, cdk_messages = cdk(argv_cdk or argv)

    assert direct_code == cdk_code
    direct_device, cdk_device = devices or (None, None)
    assert normalised(_without(direct_device, direct_messages)) == normalised(
        _without(cdk_device, cdk_messages)
    )
    assert_protocol_messages(direct_messages)
    return direct_messages


def test_given_spec_when_answered_directly_then_same_spec_as_the_cdk_path() -> None:
    messages = assert_same_answers(["spec"])

    assert [message["type"] for message in messages] == ["SPEC"]


def test_given_valid_config_when_discovered_directly_then_same_catalog_as_the_cdk_path(
    tmp_path: Path,
) -> None:
    config = _write(tmp_path, "config.json", OFFLINE)

    messages = assert_same_answers(["discover", "--config", str(config)])

    assert [message["type"] for message in messages] == ["CATALOG"]


def test_given_config_equals_form_when_discovered_directly_then_same_catalog_as_the_cdk_path(
    tmp_path: Path,
) -> None:
    config = _write(tmp_path, "config.json", OFFLINE)

    assert_same_answers(["discover", f"--config={config}"])


@pytest.mark.parametrize("command", ["check", "discover"])
@pytest.mark.parametrize(
    "change",
    [
        {"base_url": "ftp://example.org"},
        {"page_size": 5000},
        {"pii_mode": "hash", "pii_hash_key": "short"},
        {"start_date": None},
    ],
    ids=["bad-url", "page-size", "short-hash-key", "no-start-date"],
)
def test_given_invalid_config_when_answered_directly_then_same_failure_as_the_cdk_path(
    tmp_path: Path, command: str, change: dict[str, Any]
) -> None:
    document = {**OFFLINE, **change}
    config = _write(tmp_path, "config.json", {k: v for k, v in document.items() if v is not None})

    messages = assert_same_answers([command, "--config", str(config)])

    expected = "CONNECTION_STATUS" if command == "check" else "TRACE"
    assert [message["type"] for message in messages] == [expected]
    assert "short" not in json.dumps(messages)  # the hash key is a secret: never quoted


def test_given_logged_in_config_when_checked_directly_then_same_rotation_and_status_as_the_cdk_path(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    direct_config = _write(tmp_path, "direct.json", _logged_in_config(sandbox, "answers-direct"))
    cdk_config = _write(tmp_path, "cdk.json", _logged_in_config(sandbox, "answers-cdk"))

    messages = assert_same_answers(
        ["check", "--config", str(direct_config)], ["check", "--config", str(cdk_config)]
    )

    types = [message["type"] for message in messages if message["type"] != "LOG"]
    assert types[-1] == "CONNECTION_STATUS"
    assert messages[-1]["connectionStatus"] == {"status": "SUCCEEDED"}
    if "CONTROL" in types:  # a rotation is announced before the status, never after
        assert types.index("CONTROL") < types.index("CONNECTION_STATUS")
        spent = json.loads(direct_config.read_text())["refresh_token"]
        assert spent not in json.dumps([m for m in messages if m["type"] == "LOG"])


@pytest.mark.parametrize(
    "change",
    [
        {"refresh_token": "not-a-token-of-this-sandbox"},
        {"card_tokens": ["crd_NotLinked1"]},
        {"base_url": "http://127.0.0.1:9/api/v1/trastpay", "max_retries": 0},
    ],
    ids=["refused-token", "unlinked-card", "unreachable"],
)
def test_given_check_that_fails_when_answered_directly_then_same_failure_as_the_cdk_path(
    tmp_path: Path, sandbox: SandboxServer, change: dict[str, Any]
) -> None:
    listed = "card_tokens" in change  # only a check that lists the cards can refuse a card token
    direct = _logged_in_config(sandbox, "answers-f-direct", with_access_token=listed, **change)
    cdk = _logged_in_config(sandbox, "answers-f-cdk", with_access_token=listed, **change)
    direct_config = _write(tmp_path, "direct.json", direct)
    cdk_config = _write(tmp_path, "cdk.json", cdk)

    messages = assert_same_answers(
        ["check", "--config", str(direct_config)],
        ["check", "--config", str(cdk_config)],
        devices=("answers-f-direct", "answers-f-cdk"),
    )

    assert messages[-1]["connectionStatus"]["status"] == "FAILED"
    assert "not-a-token-of-this-sandbox" not in json.dumps(messages)


@pytest.mark.parametrize(
    "argv",
    [
        ["spec", "--debug"],
        ["check"],
        ["discover", "--config"],
        ["discover", "--conf", "x.json"],
        ["check", "--config", "a.json", "--config", "b.json"],
        ["bogus"],
        [],
        ["read", "--config", "c.json"],
        ["check", "--config", "-"],
    ],
)
def test_given_anything_but_a_plain_command_when_parsed_then_left_to_the_cdk_path(argv: list[str]) -> None:
    assert direct_request(argv) is None


@pytest.mark.parametrize(
    ("argv", "content"),
    [
        (["check"], None),
        (["bogus"], None),
        (["check", "--config", "{missing}"], None),
        (["discover", "--config", "{config}"], "{not json"),
        (["check", "--config", "{config}"], "[1, 2]"),
    ],
    ids=["missing-config-flag", "unknown-command", "missing-file", "not-json", "not-an-object"],
)
def test_given_bad_invocation_when_run_by_the_console_script_then_cdk_exit_code_and_messages(
    tmp_path: Path, argv: list[str], content: str | None
) -> None:
    config = tmp_path / "config.json"
    if content is not None:
        config.write_text(content, encoding="utf-8")
    argv = [arg.format(config=config, missing=tmp_path / "missing.json") for arg in argv]
    cdk_command = [sys.executable, "-m", "source_trastpay.run", *argv]

    console = subprocess.run([str(SOURCE), *argv], capture_output=True, timeout=300, check=False)
    reference = subprocess.run(cdk_command, capture_output=True, timeout=300, check=False)

    assert console.returncode == reference.returncode != 0

    def summary(stdout: bytes) -> list[tuple[str, Any]]:
        messages = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
        return [
            (
                m["type"],
                m["trace"]["error"]["internal_message"] if m["type"] == "TRACE" else m["log"]["level"],
            )
            for m in messages
        ]

    assert summary(console.stdout) == summary(reference.stdout)
    assert console.stderr.splitlines()[-1:] == [
        line.replace(b"run.py", b"source-trastpay") for line in reference.stderr.splitlines()[-1:]
    ]


@pytest.mark.parametrize(
    "argv",
    [["spec"], ["discover", "--config", "{config}"], ["check", "--config", "{invalid}"]],
    ids=["spec", "discover", "check-invalid"],
)
def test_given_direct_command_when_answered_then_airbyte_cdk_is_never_imported(
    tmp_path: Path, argv: list[str]
) -> None:
    config = _write(tmp_path, "config.json", OFFLINE)
    invalid = _write(tmp_path, "invalid.json", {**OFFLINE, "page_size": 0})
    argv = [arg.format(config=config, invalid=invalid) for arg in argv]
    probe = (
        "import json, sys\n"
        "from source_trastpay.console import answer\n"
        f"code = answer({argv!r})\n"
        "heavy = ('airbyte_cdk', 'requests_cache')\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] in heavy)\n"
        "sys.stderr.write('\\n' + json.dumps([code, loaded]))\n"
    )

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=120, check=True)

    code, loaded = json.loads(done.stderr.decode().strip().splitlines()[-1])
    assert code is not None
    assert loaded == []
