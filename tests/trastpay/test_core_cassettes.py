"""Recorded sandbox conversations (pytest-recording), replayed without a server, and scanned for secrets.

Record or refresh with a live sandbox (started here on a free port)::

    .venv/bin/pytest tests/trastpay/test_core_cassettes.py --record-mode=rewrite

Only the connector's own calls are kept (the OTP login and sandbox hooks of the harness are
not). Before anything is written, the host becomes a fixed placeholder and every secret is replaced:
``Authorization``, ``X-Device-Id``, ``X-Consent-Id`` headers are dropped, token and OTP fields in
bodies become ``REDACTED``, and card numbers are masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from trastpay.config import parse_config
from trastpay.masking import luhn_valid, scrub_pans
from trastpay.session import Checkpoint, TrastpaySession
from trastpay.state import StreamState
from trastpay.streams import get_stream

CASSETTES = Path(__file__).parent / "cassettes"
PLACEHOLDER = "http://127.0.0.1:8765"
SECRET_BODY_KEYS = ("refresh_token", "access_token", "otp")
SECRET_HEADERS = ("authorization", "x-device-id", "x-consent-id", "cookie", "set-cookie")
SYNC_CASSETTE = "test_given_recorded_sync_when_replayed_then_pages_checkpoints_and_rotation_hold"
HARNESS_PATHS = ("/_sandbox/", "/auth/otp", "/auth/login")
_live: dict[str, str] = {}


def _redact_json(raw: bytes | str | None) -> bytes | str | None:
    if not raw:
        return raw
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return scrub_pans(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: ("REDACTED" if k in SECRET_BODY_KEYS else walk(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return scrub_pans(node) if isinstance(node, str) else node

    return orjson.dumps(walk(document)).decode("utf-8")


def _before_record_request(request: Any) -> Any:
    if any(part in request.path for part in HARNESS_PATHS):
        return None
    if _live.get("base_url"):
        request.uri = request.uri.replace(_live["base_url"], PLACEHOLDER)
    request.uri = scrub_pans(request.uri)
    for name in list(request.headers):
        if name.lower() in SECRET_HEADERS:
            del request.headers[name]
    request.body = _redact_json(request.body)
    return request


def _before_record_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {k: v for k, v in response["headers"].items() if k.lower() not in SECRET_HEADERS}
    body = response.get("body", {}).get("string")
    redacted = _redact_json(body)
    if isinstance(redacted, str):
        redacted = redacted.encode("utf-8")
    response["body"]["string"] = redacted
    return response


@pytest.fixture(scope="module")
def vcr_config() -> dict[str, Any]:
    return {
        "before_record_request": _before_record_request,
        "before_record_response": _before_record_response,
        "decode_compressed_response": True,
        "match_on": ["method", "path", "query"],
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture
def recorded_config(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """Replay: placeholder host and token. Recording: a live sandbox and a real OTP login."""
    raw: dict[str, Any] = {
        "base_url": PLACEHOLDER + "/api/v1/trastpay",
        "client_id": "core-cassettes",
        "device_id": "dev-cassettes",
        "refresh_token": "REDACTED",
        "start_date": "2026-09-01",
        "page_size": 40,
        "max_retries": 0,
    }
    if request.config.getoption("--record-mode") in ("none", None):
        yield raw
        return
    from trastpay_sandbox import testing
    from trastpay_sandbox.login_config import login_config

    with testing.SandboxServer(customers=1, seed=11) as sandbox:
        phone = sandbox.customers()[0]["phone"]
        login = login_config(
            sandbox,
            phone=phone,
            device_id=raw["device_id"],
            client_id=raw["client_id"],
            start_date=raw["start_date"],
        )
        _live["base_url"] = sandbox.base_url
        yield {**raw, **login}
        _live.clear()
    sandbox.cleanup()


@pytest.mark.vcr
def test_given_recorded_sync_when_replayed_then_pages_checkpoints_and_rotation_hold(
    recorded_config: dict[str, Any],
) -> None:
    rotations: list[str] = []
    config = parse_config(recorded_config)
    with TrastpaySession(
        config, on_rotate=lambda grant: rotations.append(grant.refresh_token), sleep=lambda s: None
    ) as session:
        session.check()
        stream = get_stream("card_transactions")
        state = StreamState(stream)
        records: list[dict[str, Any]] = []
        checkpoints: list[str | None] = []
        for partition in session.partitions(stream):
            for item in session.read(stream, partition, None):
                if isinstance(item, Checkpoint):
                    checkpoints.append(item.cursor)
                    state.advance(partition.key, item.cursor)
                else:
                    records.append(item)
    assert len(rotations) == 1
    assert records
    assert len({r["id"] for r in records}) == len(records)
    assert all(type(r["amount_minor"]) is int for r in records)
    assert len(checkpoints) >= 2
    assert state.to_dict()["partitions"]


_PAN_RUN = re.compile(rb"(?<![0-9])[0-9]{13,19}(?![0-9])")


def cassette_leaks(text: bytes) -> list[str]:
    """What in a cassette would leak: secret headers, unredacted token/OTP fields, bearer tokens, PANs."""
    leaks: list[str] = []
    lowered = text.lower()
    leaks += [f"header {h}" for h in SECRET_HEADERS if f"{h}:".encode() in lowered]
    for key in SECRET_BODY_KEYS:
        pattern = rb'\\?"' + key.encode() + rb'\\?"\s*:\s*\\?"([^"\\]*)'
        leaks += [f"field {key}" for m in re.finditer(pattern, text) if m.group(1) != b"REDACTED"]
    if b"Bearer " in text:
        leaks.append("bearer token")
    leaks += ["card number" for run in _PAN_RUN.findall(text) if luhn_valid(run.decode())]
    return leaks


@pytest.mark.parametrize(
    "planted",
    [
        b"    Authorization:\n    - Bearer abc\n",
        b"    X-Device-Id:\n    - dev-1\n",
        b'string: \'{"refresh_token":"Zm9vYmFy","expires_in":1800}\'',
        b'body: \'{"otp":"123456"}\'',
        b'string: \'{"pan":"8600301234566312"}\'',
    ],
)
def test_given_planted_secret_when_scanning_then_leak_is_found(planted: bytes) -> None:
    assert cassette_leaks(planted)


@pytest.mark.parametrize("cassette", sorted(CASSETTES.glob("*.yaml")), ids=lambda p: p.name)
def test_given_cassette_when_scanned_then_holds_no_token_device_otp_or_card_number(cassette: Path) -> None:
    assert cassette_leaks(cassette.read_bytes()) == []


def test_given_cassette_directory_when_listed_then_sync_cassette_is_present() -> None:
    assert (CASSETTES / f"{SYNC_CASSETTE}.yaml").exists(), (
        "record it: pytest tests/trastpay/test_core_cassettes.py --record-mode=rewrite"
    )
