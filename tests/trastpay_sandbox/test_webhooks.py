"""Webhooks: signatures a receiver can verify, and at-least-once ordered delivery to a real local server."""

from __future__ import annotations

import hashlib
import hmac
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest

from trastpay.webhook_signatures import (
    SignatureFormatError,
    SignatureMismatchError,
    SignatureTimestampError,
    WebhookSignatureError,
    parse_signature_header,
    sign,
    signature_header,
    verify_signature,
)
from trastpay_sandbox.webhooks import WebhookDispatcher

SECRET = "whsec_test_current"
OLD_SECRET = "whsec_test_previous"
BODY = b'{"id":"evt_1","type":"transaction.posted"}'
NOW = 1_772_612_525
DEADLINE_S = 10.0


def event(number: int, event_type: str = "transaction.posted") -> dict[str, Any]:
    return {
        "id": f"evt_{number:04d}",
        "type": event_type,
        "occurred_at": f"2026-03-04T13:22:{number % 60:02d}+05:00",
        "resource_type": "card_transaction",
        "resource_id": f"tx_{number}",
        "data": {"amount_minor": -152_000_00, "commission_minor": 380_00},
    }


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int


class Receiver:
    """A real HTTP server on 127.0.0.1 that answers 503 to its first ``fail_first`` requests."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.requests: list[Received] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver._changed:
                    status = 503 if len(receiver.requests) < receiver.fail_first else 204
                    receiver.requests.append(Received(dict(self.headers.items()), body, status))
                    receiver._changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/trastpay"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def accepted(self) -> list[Received]:
        with self._changed:
            return [r for r in self.requests if r.status < 300]

    def wait_until(self, condition: Callable[[list[Received]], bool], timeout_s: float = DEADLINE_S) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: condition(self.requests), timeout_s)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(DEADLINE_S)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def dispatcher() -> Iterator[WebhookDispatcher]:
    instance = WebhookDispatcher(backoff_base_s=0.01, backoff_cap_s=0.05, max_attempts=4, timeout_s=2.0)
    yield instance
    instance.close()


def free_port_without_listener() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- signatures ---------------------------------------------------------------------------------


def test_given_secret_when_signing_then_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, NOW, BODY) == expected
    assert sign(SECRET.encode(), NOW, BODY) == expected
    assert signature_header([SECRET], NOW, BODY) == f"t={NOW},v1={expected}"


def test_given_signed_body_when_verifying_with_same_secret_then_accepted() -> None:
    header = signature_header([SECRET], NOW, BODY)

    verified = verify_signature(header, BODY, [SECRET], now=NOW + 299)

    assert verified == (NOW, sign(SECRET, NOW, BODY))


def test_given_tampered_body_when_verifying_then_mismatch() -> None:
    header = signature_header([SECRET], NOW, BODY)
    with pytest.raises(SignatureMismatchError):
        verify_signature(header, BODY.replace(b"evt_1", b"evt_2"), [SECRET], now=NOW)


def test_given_wrong_secret_when_verifying_then_mismatch() -> None:
    header = signature_header([SECRET], NOW, BODY)
    with pytest.raises(SignatureMismatchError, match="no v1 signature matches"):
        verify_signature(header, BODY, ["whsec_other"], now=NOW)


def test_given_stale_timestamp_when_verifying_then_rejected_as_old() -> None:
    header = signature_header([SECRET], NOW, BODY)
    with pytest.raises(SignatureTimestampError, match="301 s old"):
        verify_signature(header, BODY, [SECRET], now=NOW + 301)


def test_given_future_timestamp_when_verifying_then_rejected_as_future() -> None:
    header = signature_header([SECRET], NOW, BODY)
    with pytest.raises(SignatureTimestampError, match="in the future"):
        verify_signature(header, BODY, [SECRET], now=NOW - 600, tolerance_s=60)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "garbage",
        f"t={NOW}",
        "v1=" + "a" * 64,
        f"t=soon,v1={'a' * 64}",
        f"t={NOW},t={NOW},v1={'a' * 64}",
        f"t={NOW},v1=NOT-HEX",
    ],
)
def test_given_malformed_header_when_verifying_then_format_error(header: str) -> None:
    with pytest.raises(SignatureFormatError):
        verify_signature(header, BODY, [SECRET], now=NOW)


def test_given_any_signature_error_then_it_is_a_value_error() -> None:
    assert issubclass(WebhookSignatureError, ValueError)
    for error in (SignatureFormatError, SignatureTimestampError, SignatureMismatchError):
        assert issubclass(error, WebhookSignatureError)


def test_given_two_signatures_when_verifying_with_either_secret_then_accepted() -> None:
    header = signature_header([SECRET, OLD_SECRET], NOW, BODY)
    assert len(parse_signature_header(header)[1]) == 2
    verify_signature(header, BODY, [SECRET], now=NOW)
    verify_signature(header, BODY, [OLD_SECRET], now=NOW)


# --- registration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",
        "https://127.0.0.1/hook",
        "http://127.0.0.1.example.com/hook",
        "http://10.0.0.5:8080/hook",
        "http://user:pw@localhost/hook",
        "ftp://localhost/hook",
        "http://localhost:notaport/hook",
    ],
)
def test_given_non_local_url_when_registering_then_value_error_names_it(
    dispatcher: WebhookDispatcher, url: str
) -> None:
    with pytest.raises(ValueError, match="webhook url") as error:
        dispatcher.register(url, SECRET)
    assert url in str(error.value)
    assert dispatcher.stats()["subscriptions"] == 0


def test_given_local_urls_when_registering_then_distinct_subscription_ids(
    dispatcher: WebhookDispatcher,
) -> None:
    first = dispatcher.register("http://127.0.0.1:9/a", SECRET)
    second = dispatcher.register("http://localhost/b", SECRET)
    assert first != second
    assert dispatcher.stats()["subscriptions"] == 2


def test_given_event_without_type_when_delivering_then_error_and_nothing_queued(
    dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    dispatcher.register(receiver.url, SECRET)
    broken = event(2)
    del broken["type"]
    with pytest.raises(ValueError, match="'type'"):
        dispatcher.deliver([("cust_1", event(1)), ("cust_1", broken)])
    assert dispatcher.stats()["pending"] == 0
    assert receiver.requests == []


def test_given_unknown_subscription_when_rotating_then_value_error(dispatcher: WebhookDispatcher) -> None:
    with pytest.raises(ValueError, match="whsub_nope"):
        dispatcher.rotate_secret("whsub_nope", "whsec_new")


# --- delivery -----------------------------------------------------------------------------------


def test_given_event_when_delivered_then_signed_json_with_idempotency_and_type_headers(
    dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    dispatcher.register(receiver.url, SECRET)
    assert dispatcher.deliver([("cust_1", event(1))]) == 1

    assert receiver.wait_until(lambda requests: len(requests) == 1)
    request = receiver.requests[0]
    assert orjson.loads(request.body) == event(1)
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Idempotency-Key"] == "evt_0001"
    assert request.headers["X-Trastpay-Event"] == "transaction.posted"
    verify_signature(request.headers["X-Trastpay-Signature"], request.body, [SECRET], now=int(time.time()))
    assert dispatcher.wait_idle(DEADLINE_S)
    assert dispatcher.stats() == {
        "delivered": 1,
        "failed_attempts": 0,
        "dropped": 0,
        "pending": 0,
        "subscriptions": 1,
    }


def test_given_receiver_failing_twice_when_delivering_then_third_attempt_succeeds_in_order(
    dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    receiver.fail_first = 2
    dispatcher.register(receiver.url, SECRET)
    dispatcher.deliver([("cust_1", event(1)), ("cust_1", event(2)), ("cust_1", event(3))])

    assert dispatcher.wait_idle(DEADLINE_S)
    keys = [r.headers["X-Idempotency-Key"] for r in receiver.requests]
    assert keys == ["evt_0001", "evt_0001", "evt_0001", "evt_0002", "evt_0003"]
    assert [r.status for r in receiver.requests[:3]] == [503, 503, 204]
    assert [r.headers["X-Idempotency-Key"] for r in receiver.accepted] == ["evt_0001", "evt_0002", "evt_0003"]
    for request in receiver.requests:
        verify_signature(
            request.headers["X-Trastpay-Signature"], request.body, [SECRET], now=int(time.time())
        )
    stats = dispatcher.stats()
    assert (stats["delivered"], stats["failed_attempts"], stats["dropped"]) == (3, 2, 0)


def test_given_unreachable_receiver_when_delivering_then_bounded_attempts_then_dropped() -> None:
    url = f"http://127.0.0.1:{free_port_without_listener()}/hook"
    with WebhookDispatcher(
        backoff_base_s=0.01, backoff_cap_s=0.02, max_attempts=3, timeout_s=1.0
    ) as dispatcher:
        dispatcher.register(url, SECRET)
        dispatcher.deliver([("cust_1", event(1))])
        assert dispatcher.wait_idle(DEADLINE_S)
        stats = dispatcher.stats()
    assert (stats["delivered"], stats["failed_attempts"], stats["dropped"]) == (0, 3, 1)


def test_given_delivered_events_when_replayed_then_same_idempotency_keys_again(
    dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    dispatcher.register(receiver.url, SECRET)
    events = [("cust_1", event(1)), ("cust_1", event(2))]
    dispatcher.deliver(events)
    assert receiver.wait_until(lambda requests: len(requests) == 2)

    dispatcher.replay(events)

    assert receiver.wait_until(lambda requests: len(requests) == 4)
    keys = [r.headers["X-Idempotency-Key"] for r in receiver.requests]
    assert keys == ["evt_0001", "evt_0002", "evt_0001", "evt_0002"]
    assert receiver.requests[2].body == receiver.requests[0].body


def test_given_rotated_secret_when_in_grace_then_both_signatures_and_either_secret_verifies(
    receiver: Receiver,
) -> None:
    clock = [float(int(time.time()))]
    with WebhookDispatcher(backoff_base_s=0.01, backoff_cap_s=0.02, clock=lambda: clock[0]) as dispatcher:
        subscription_id = dispatcher.register(receiver.url, OLD_SECRET)
        dispatcher.rotate_secret(subscription_id, SECRET, grace_seconds=3600)
        dispatcher.deliver([("cust_1", event(1))])
        assert receiver.wait_until(lambda requests: len(requests) == 1)

        clock[0] += 3601
        dispatcher.deliver([("cust_1", event(2))])
        assert receiver.wait_until(lambda requests: len(requests) == 2)

    in_grace, after_grace = receiver.requests
    header = in_grace.headers["X-Trastpay-Signature"]
    assert len(parse_signature_header(header)[1]) == 2
    verify_signature(header, in_grace.body, [SECRET], now=int(clock[0]) - 3601)
    verify_signature(header, in_grace.body, [OLD_SECRET], now=int(clock[0]) - 3601)

    header = after_grace.headers["X-Trastpay-Signature"]
    assert len(parse_signature_header(header)[1]) == 1
    verify_signature(header, after_grace.body, [SECRET], now=int(clock[0]))
    with pytest.raises(SignatureMismatchError):
        verify_signature(header, after_grace.body, [OLD_SECRET], now=int(clock[0]))


def test_given_customer_filter_when_delivering_then_only_that_customers_events(
    dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    dispatcher.register(receiver.url, SECRET, customer_id="cust_2")
    queued = dispatcher.deliver([("cust_1", event(1)), ("cust_2", event(2)), ("cust_1", event(3))])
    assert queued == 1
    assert dispatcher.wait_idle(DEADLINE_S)
    assert [r.headers["X-Idempotency-Key"] for r in receiver.requests] == ["evt_0002"]


def test_given_long_backoff_when_closing_then_workers_stop_promptly(receiver: Receiver) -> None:
    receiver.fail_first = 1_000
    dispatcher = WebhookDispatcher(backoff_base_s=30.0, backoff_cap_s=60.0)
    dispatcher.register(receiver.url, SECRET)
    dispatcher.deliver([("cust_1", event(1))])
    assert receiver.wait_until(lambda requests: len(requests) == 1)

    started = time.monotonic()
    dispatcher.close(timeout_s=DEADLINE_S)

    assert time.monotonic() - started < 5.0
    assert dispatcher.stats()["pending"] == 1
    assert not any(t.name.startswith("webhooks-") for t in threading.enumerate())
    with pytest.raises(RuntimeError, match="closed"):
        dispatcher.deliver([("cust_1", event(2))])


def test_given_failing_deliveries_when_logging_then_secrets_never_appear(
    dispatcher: WebhookDispatcher, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver.fail_first = 2
    subscription_id = dispatcher.register(receiver.url, OLD_SECRET)
    dispatcher.rotate_secret(subscription_id, SECRET)
    dispatcher.deliver([("cust_1", event(1))])
    assert dispatcher.wait_idle(DEADLINE_S)

    assert "evt_0001" in caplog.text
    assert SECRET not in caplog.text
    assert OLD_SECRET not in caplog.text
    signature = receiver.requests[-1].headers["X-Trastpay-Signature"]
    assert signature.split("v1=")[1].strip(",") not in caplog.text
