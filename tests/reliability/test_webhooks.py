"""Webhooks under abuse: stale, future, forged, duplicated and replayed deliveries, and a rotated secret.

Webhooks are received by the core (``trastpay.webhook_receiver``), which both connectors' users
run the same way (``trastpay webhooks serve``), so this case has one row, "core", not one per
connector. The sandbox delivers real events to a live receiver on 127.0.0.1; forged deliveries are
then sent to the same receiver. Every bad one must be refused and every real event applied once.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from trastpay.webhook_receiver import ReceiverSecrets, WebhookReceiver, WebhookStore, WebhookVerifier
from trastpay.webhook_signatures import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature_header
from trastpay_sandbox.testing import SandboxServer

from .harness import report

OLD_SECRET = "whsec_reliability_old"
NEW_SECRET = "whsec_reliability_new"


def _wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(customers=1, history_days=20, seed=71) as server:
        yield server


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def _events_between(sandbox: SandboxServer, phone: str, duration: str) -> list[dict[str, Any]]:
    before = datetime.fromisoformat(sandbox.now())
    after = datetime.fromisoformat(sandbox.advance(duration)["now"])
    return [
        e
        for e in sandbox.truth("events", phone)
        if before < datetime.fromisoformat(e["occurred_at"]) <= after
    ]


def test_given_hostile_webhook_deliveries_when_received_then_every_bad_one_is_refused_and_events_apply_once(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    phone = str(sandbox.customers()[0]["phone"])
    store = WebhookStore(tmp_path / "events.sqlite")
    verifier = WebhookVerifier(store, ReceiverSecrets(current=OLD_SECRET))
    with WebhookReceiver(verifier).start() as receiver:
        url = receiver.url + "hooks"
        status, _ = sandbox.request(
            "POST", "/_sandbox/webhooks", {"url": url, "secret": OLD_SECRET, "phone": phone}
        )
        assert status == 201
        expected = _events_between(sandbox, phone, "P1D")
        assert expected, "no events in the window"
        _wait_for(lambda: store.count() >= len(expected), f"{len(expected)} deliveries")

        sample = expected[0]
        body = orjson.dumps(sample)
        now = int(time.time())
        key = {IDEMPOTENCY_HEADER: str(sample["id"]), "Content-Type": "application/json"}

        def signed(secrets: list[str], at: int) -> dict[str, str]:
            return {**key, SIGNATURE_HEADER: signature_header(secrets, at, body)}

        fresh = signed([OLD_SECRET], now - 120)  # a second no real delivery was signed at
        outcomes = {
            "stale timestamp": _post(url, body, signed([OLD_SECRET], now - 3600)),
            "future timestamp": _post(url, body, signed([OLD_SECRET], now + 3600)),
            "bad signature": _post(url, body, signed(["not-the-secret"], now)),
            "missing signature": _post(url, body, key),
            "duplicate idempotency key (fresh signature)": _post(url, body, fresh),
            "replayed signature": _post(url, body, fresh),
        }
        applied_before_rotation = store.count()

        grace_until = datetime.now(UTC) + timedelta(hours=1)
        verifier._secrets = ReceiverSecrets(current=NEW_SECRET, previous=OLD_SECRET, grace_until=grace_until)
        rotated, _ = sandbox.request(
            "POST", "/_sandbox/webhooks/rotate-secret", {"secret": NEW_SECRET, "grace_seconds": 3600}
        )
        assert rotated == 200
        after_rotation = _events_between(sandbox, phone, "P1D")
        expected += after_rotation
        _wait_for(lambda: store.count() >= len(expected), "deliveries after the secret rotation")
        verifier._secrets = ReceiverSecrets(current=NEW_SECRET)
        later = int(time.time()) + 1
        outcomes["old secret after its grace period"] = _post(url, body, signed([OLD_SECRET], later))
        time.sleep(0.2)
    applied = [event["id"] for event in store.events()]
    once = sorted(applied) == sorted(e["id"] for e in expected) and len(applied) == len(set(applied))
    refused = {name: code for name, code in outcomes.items() if name.startswith("duplicate") or code >= 400}
    bad_refused = all(code >= 400 for name, code in outcomes.items() if not name.startswith("duplicate"))
    duplicate_ok = outcomes["duplicate idempotency key (fresh signature)"] == 200
    passed = (
        once
        and bad_refused
        and duplicate_ok
        and applied_before_rotation == len(expected) - len(after_rotation)
    )
    report(
        "webhooks: stale/future/forged/duplicate/replayed deliveries, rotated secret",
        "core",
        1,
        passed,
        f"{len(expected)} events delivered ({len(after_rotation)} after the rotation), "
        f"{len(applied)} applied, "
        f"each once: {once}; answers: " + ", ".join(f"{name} {code}" for name, code in refused.items()),
    )
    assert bad_refused, outcomes
    assert duplicate_ok, "a duplicate delivery is acknowledged (200) without being applied again"
    assert once, f"applied {len(applied)} events for {len(expected)} expected"
