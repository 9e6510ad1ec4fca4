"""The webhook receiver: verified, fresh, unreplayed deliveries are applied exactly once.

A real receiver listens on 127.0.0.1 in-process; the clock is fixed so timestamp windows are exact.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import requests

from trastpay.webhook_receiver import (
    MAX_BODY_BYTES,
    ReceiverSecrets,
    WebhookReceiver,
    WebhookStore,
    WebhookVerifier,
)
from trastpay.webhook_signatures import signature_header

SECRET = "whsec_receiver_current"
OLD_SECRET = "whsec_receiver_previous"
NOW = 1_772_612_525


def event(number: int = 1) -> dict[str, Any]:
    return {
        "id": f"evt_{NOW}_tx_{number}",
        "type": "transaction.posted",
        "occurred_at": "2026-03-04T13:22:05+05:00",
        "resource_type": "card_transactions",
        "resource_id": f"tx_{number}",
        "data": {"amount_minor": -15_200_000, "currency": "UZS"},
    }


class Harness:
    def __init__(self, tmp_path: Path, secrets: ReceiverSecrets, on_event: Any = None) -> None:
        tmp_path.mkdir(parents=True, exist_ok=True)
        self.store = WebhookStore(tmp_path / "hooks.sqlite", on_event=on_event)
        self.verifier = WebhookVerifier(self.store, secrets, clock=lambda: float(NOW))
        self.receiver = WebhookReceiver(self.verifier).start()

    def post(
        self,
        body: bytes,
        *,
        secrets: list[str] | None = None,
        timestamp: int = NOW,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        sent = {
            "Content-Type": "application/json",
            "X-Trastpay-Signature": signature_header(secrets or [SECRET], timestamp, body),
            "X-Trastpay-Event": "transaction.posted",
        }
        if key is not None:
            sent["X-Idempotency-Key"] = key
        sent.update(headers or {})
        return requests.post(self.receiver.url + "hooks", data=body, headers=sent, timeout=10)

    def deliver(self, record: dict[str, Any], **options: Any) -> requests.Response:
        return self.post(orjson.dumps(record), key=record["id"], **options)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    running = Harness(tmp_path, ReceiverSecrets(SECRET))
    yield running
    running.receiver.stop()


def test_given_signed_fresh_event_when_delivered_then_200_applied_and_stored(harness: Harness) -> None:
    response = harness.deliver(event())

    assert response.status_code == 200
    assert response.json() == {"status": "applied"}
    assert harness.store.events() == [event()]


def test_given_body_changed_after_signing_when_delivered_then_401_and_nothing_stored(
    harness: Harness,
) -> None:
    signed = orjson.dumps(event())
    tampered = signed.replace(b"-15200000", b"-99999999")
    headers = {"X-Trastpay-Signature": signature_header([SECRET], NOW, signed)}

    response = harness.post(tampered, key=event()["id"], headers=headers)

    assert response.status_code == 401
    assert response.json()["reason"] == "signature does not match"
    assert harness.store.count() == 0


def test_given_other_secret_when_delivered_then_401(harness: Harness) -> None:
    response = harness.deliver(event(), secrets=["whsec_somebody_else"])

    assert response.status_code == 401
    assert harness.store.count() == 0


@pytest.mark.parametrize(("offset", "word"), [(-301, "old"), (301, "future")])
def test_given_timestamp_outside_five_minutes_when_delivered_then_401_naming_stale_or_future(
    harness: Harness, offset: int, word: str
) -> None:
    response = harness.deliver(event(), timestamp=NOW + offset)

    assert response.status_code == 401
    assert word in response.json()["reason"]
    assert harness.store.count() == 0


@pytest.mark.parametrize("offset", [-300, 300])
def test_given_timestamp_at_the_window_edge_when_delivered_then_applied(
    harness: Harness, offset: int
) -> None:
    assert harness.deliver(event(), timestamp=NOW + offset).status_code == 200


def test_given_captured_delivery_when_replayed_verbatim_then_409_and_applied_once(harness: Harness) -> None:
    body = orjson.dumps(event())
    first = harness.post(body, key=event()["id"])

    replayed = harness.post(body, key=event()["id"])

    assert first.status_code == 200
    assert replayed.status_code == 409
    assert "replayed" in replayed.json()["reason"]
    assert harness.store.count() == 1


def test_given_same_idempotency_key_resigned_when_redelivered_then_200_duplicate_applied_once(
    harness: Harness,
) -> None:
    first = harness.deliver(event(), timestamp=NOW - 10)

    again = harness.deliver(event(), timestamp=NOW - 5)

    assert first.json() == {"status": "applied"}
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate"}
    assert harness.store.count() == 1


def test_given_concurrent_redeliveries_of_one_key_when_received_then_applied_exactly_once(
    harness: Harness,
) -> None:
    answers: list[int] = []
    lock = threading.Lock()

    def deliver(offset: int) -> None:
        status = harness.deliver(event(), timestamp=NOW - offset).status_code
        with lock:
            answers.append(status)

    threads = [threading.Thread(target=deliver, args=(offset,)) for offset in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert answers == [200] * 12
    assert harness.verifier.counts["applied"] == 1
    assert harness.verifier.counts["duplicate"] == 11
    assert harness.store.count() == 1


def test_given_rotated_secret_when_old_signature_arrives_during_grace_then_accepted_and_after_grace_refused(
    tmp_path: Path,
) -> None:
    during = Harness(
        tmp_path / "during", ReceiverSecrets(SECRET, OLD_SECRET, datetime.fromtimestamp(NOW + 60, UTC))
    )
    after = Harness(
        tmp_path / "after", ReceiverSecrets(SECRET, OLD_SECRET, datetime.fromtimestamp(NOW - 1, UTC))
    )
    try:
        assert during.deliver(event(1), secrets=[OLD_SECRET]).status_code == 200
        assert during.deliver(event(2), secrets=[SECRET, OLD_SECRET]).status_code == 200
        assert after.deliver(event(1), secrets=[OLD_SECRET]).status_code == 401
        assert after.deliver(event(2), secrets=[SECRET, OLD_SECRET]).status_code == 200
    finally:
        during.receiver.stop()
        after.receiver.stop()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"X-Trastpay-Signature": ""}, "missing X-Trastpay-Signature"),
        ({"X-Trastpay-Signature": "t=abc,v1=zz"}, "malformed signature header"),
        ({"X-Idempotency-Key": "evt_other"}, "does not match the event id"),
        ({"X-Trastpay-Event": "transfer.created"}, "does not match the event type"),
    ],
)
def test_given_bad_headers_when_delivered_then_400_with_a_short_reason(
    harness: Harness, change: dict[str, str], reason: str
) -> None:
    body = orjson.dumps(event())

    response = harness.post(body, key=event()["id"], headers=change)

    assert response.status_code == 400
    assert reason in response.json()["reason"]
    assert harness.store.count() == 0


def test_given_no_idempotency_key_when_delivered_then_400(harness: Harness) -> None:
    response = harness.post(orjson.dumps(event()))

    assert response.status_code == 400
    assert "X-Idempotency-Key" in response.json()["reason"]


def test_given_signed_body_that_is_not_an_event_when_delivered_then_400(harness: Harness) -> None:
    response = harness.post(b"[1, 2]", key="evt_x")

    assert response.status_code == 400
    assert harness.store.count() == 0


def test_given_oversized_body_when_delivered_then_413(harness: Harness) -> None:
    body = b'{"id": "evt_big", "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'

    response = harness.post(body, key="evt_big")

    assert response.status_code == 413


def test_given_apply_hook_fails_when_delivered_then_500_nothing_kept_and_redelivery_applies_once(
    tmp_path: Path,
) -> None:
    calls: list[str] = []

    def apply(connection: sqlite3.Connection, record: Mapping[str, Any]) -> None:
        calls.append(record["id"])
        if len(calls) == 1:
            raise RuntimeError("ledger is locked")

    running = Harness(tmp_path, ReceiverSecrets(SECRET), on_event=apply)
    try:
        failed = running.deliver(event(), timestamp=NOW - 3)
        retried = running.deliver(event(), timestamp=NOW - 2)
        duplicate = running.deliver(event(), timestamp=NOW - 1)
    finally:
        running.receiver.stop()

    assert failed.status_code == 500
    assert retried.json() == {"status": "applied"}
    assert duplicate.json() == {"status": "duplicate"}
    assert calls == [event()["id"], event()["id"]]
    assert running.store.count() == 1


def test_given_any_delivery_when_logged_then_no_secret_appears(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    harness.deliver(event(1))
    harness.deliver(event(2), secrets=["whsec_wrong_secret"])

    assert caplog.records
    assert SECRET not in caplog.text
    assert "whsec_wrong_secret" not in caplog.text
    assert SECRET not in repr(ReceiverSecrets(SECRET, OLD_SECRET, datetime.fromtimestamp(NOW, UTC)))


def test_given_previous_secret_without_grace_time_when_configured_then_value_error() -> None:
    with pytest.raises(ValueError, match="grace-until"):
        ReceiverSecrets(SECRET, OLD_SECRET, None)


def _raw_exchange(url: str, request: bytes, *, wait_s: float = 10.0) -> bytes:
    """Send ``request`` as raw bytes and read until the receiver closes the connection."""
    parts = urlsplit(url)
    with socket.create_connection((str(parts.hostname), int(parts.port or 80)), timeout=wait_s) as raw:
        raw.sendall(request)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    return answer


def test_given_correctly_signed_delivery_with_lower_case_header_names_when_delivered_then_applied(
    harness: Harness,
) -> None:
    body = orjson.dumps(event())
    lower = {
        "x-trastpay-signature": signature_header([SECRET], NOW, body),
        "x-idempotency-key": event()["id"],
        "x-trastpay-event": "transaction.posted",
        "content-type": "application/json",
    }

    over_http = requests.post(harness.receiver.url + "hooks", data=body, headers=lower, timeout=10)
    direct = harness.verifier.handle(
        {name.upper(): value for name, value in lower.items()}, orjson.dumps(event(2))
    )

    assert over_http.status_code == 200
    assert over_http.json() == {"status": "applied"}
    assert direct.status == 401  # the header was found (the body is not what was signed), not "missing"
    assert harness.store.events() == [event()]


def test_given_two_different_content_length_headers_when_delivered_then_400_and_nothing_stored(
    harness: Harness,
) -> None:
    body = orjson.dumps(event())
    head = (
        "POST /hooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"X-Trastpay-Signature: {signature_header([SECRET], NOW, body)}\r\n"
        f"X-Idempotency-Key: {event()['id']}\r\n"
        f"Content-Length: {len(body)}\r\nContent-Length: {len(body) + 5}\r\nConnection: close\r\n\r\n"
    ).encode()

    answer = _raw_exchange(harness.receiver.url, head + body + b"extra")

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert harness.store.count() == 0


@pytest.mark.parametrize(
    "partial",
    [
        b"POST /hooks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Trastpay-Sig",
        b'POST /hooks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n\r\n{"id": ',
    ],
    ids=["half-sent headers", "half-sent body"],
)
def test_given_half_sent_requests_when_read_timeout_passes_then_connections_closed_and_others_answered(
    tmp_path: Path, partial: bytes
) -> None:
    store = WebhookStore(tmp_path / "hooks.sqlite")
    verifier = WebhookVerifier(store, ReceiverSecrets(SECRET), clock=lambda: float(NOW))
    with WebhookReceiver(verifier, read_timeout_s=0.5) as receiver:
        parts = urlsplit(receiver.url)
        stalled = [socket.create_connection((str(parts.hostname), int(parts.port or 80))) for _ in range(50)]
        try:
            for raw in stalled:
                raw.sendall(partial)
            body = orjson.dumps(event())
            headers = {"X-Trastpay-Signature": signature_header([SECRET], NOW, body)}
            answered = requests.post(
                receiver.url + "hooks",
                data=body,
                headers={**headers, "X-Idempotency-Key": event()["id"]},
                timeout=5,
            )
            started = time.monotonic()
            for raw in stalled:
                raw.settimeout(10)
                assert raw.recv(65536) == b""  # closed by the receiver, not by this test's timeout
            waited = time.monotonic() - started
        finally:
            for raw in stalled:
                raw.close()

    assert answered.status_code == 200
    assert waited < 5
    assert store.count() == 1
