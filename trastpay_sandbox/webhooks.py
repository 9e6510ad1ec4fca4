"""Signed webhook delivery for the sandbox (signing helpers live in :mod:`trastpay.webhook_signatures`).

Each event is POSTed as JSON to every matching subscription with
``X-Trastpay-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`` (a second
``v1=`` signed with the previous secret while a rotated secret is in its grace period),
``X-Idempotency-Key: <event id>`` and ``X-Trastpay-Event: <type>``. Delivery is at-least-once:
a non-2xx answer or a connection error is retried with capped exponential backoff up to
``max_attempts`` times, then the event is dropped and counted. A subscription has its own worker
thread and queue, so events reach one receiver in the order they were enqueued and a failing
receiver never delays another. Every attempt is signed afresh with the current time, so a late
retry still passes a receiver's timestamp tolerance. Secrets never appear in logs or errors.
"""

from __future__ import annotations

import logging
import secrets as secrets_module
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
import requests

from trastpay.webhook_signatures import (
    EVENT_TYPE_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)

logger = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})


def check_local_url(url: str) -> str:
    """``url`` if it is ``http://127.0.0.1[:port]/...`` or ``http://localhost[:port]/...``.

    The sandbox must never post data anywhere but the developer's own machine.
    """
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise ValueError(f"webhook url {url!r} has an invalid port") from None
    if parts.scheme != "http" or parts.hostname not in LOCAL_HOSTS or parts.username or parts.password:
        raise ValueError(
            f"webhook url {url!r} is not allowed: the sandbox only delivers to "
            "http://127.0.0.1[:port]/... or http://localhost[:port]/..."
        )
    return url


@dataclass(frozen=True)
class _Delivery:
    event_id: str
    event_type: str
    body: bytes


@dataclass
class _Subscription:
    id: str
    url: str
    customer_id: str | None
    secret: str
    previous_secret: str | None = None
    previous_valid_until: float = 0.0
    queue: deque[_Delivery] = field(default_factory=deque)
    thread: threading.Thread | None = None

    def signing_secrets(self, now: float) -> list[str]:
        if self.previous_secret is not None and now < self.previous_valid_until:
            return [self.secret, self.previous_secret]
        return [self.secret]


def _check_secret(secret: str) -> str:
    if not isinstance(secret, str) or not secret:
        raise ValueError("webhook secret must be a non-empty string")
    return secret


def _to_delivery(customer_id: str, event: Mapping[str, Any]) -> _Delivery:
    for name in ("id", "type", "occurred_at"):
        if not isinstance(event.get(name), str) or not event[name]:
            raise ValueError(f"webhook event for customer {customer_id!r} lacks a string {name!r}")
    return _Delivery(event_id=event["id"], event_type=event["type"], body=orjson.dumps(event))


class WebhookDispatcher:
    """Queues events per subscription and posts them from background threads.

    ``clock`` (unix seconds) signs deliveries and times secret-rotation grace; tests may inject it.
    """

    def __init__(
        self,
        *,
        backoff_base_s: float = 1.0,
        backoff_cap_s: float = 60.0,
        max_attempts: int = 8,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if backoff_base_s < 0 or backoff_cap_s < backoff_base_s:
            raise ValueError("backoff needs 0 <= backoff_base_s <= backoff_cap_s")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self._backoff_base_s = backoff_base_s
        self._backoff_cap_s = backoff_cap_s
        self._max_attempts = max_attempts
        self._timeout_s = timeout_s
        self._clock = clock
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._subscriptions: dict[str, _Subscription] = {}
        self._delivered = 0
        self._failed_attempts = 0
        self._dropped = 0

    def register(self, url: str, secret: str, *, customer_id: str | None = None) -> str:
        """Subscribe ``url``; returns the subscription id. ``customer_id`` None means every customer."""
        subscription = _Subscription(
            id=f"whsub_{secrets_module.token_hex(8)}",
            url=check_local_url(url),
            customer_id=customer_id,
            secret=_check_secret(secret),
        )
        with self._changed:
            self._ensure_open()
            self._subscriptions[subscription.id] = subscription
            subscription.thread = threading.Thread(
                target=self._run, args=(subscription,), name=f"webhooks-{subscription.id}", daemon=True
            )
            subscription.thread.start()
        logger.info("webhook subscription %s registered for %s", subscription.id, url)
        return subscription.id

    def rotate_secret(self, subscription_id: str, new_secret: str, grace_seconds: float = 3600) -> None:
        """Sign with ``new_secret`` from now on, and also with the old one for ``grace_seconds``."""
        _check_secret(new_secret)
        if grace_seconds < 0:
            raise ValueError(f"grace_seconds must be >= 0, got {grace_seconds}")
        with self._changed:
            subscription = self._subscription(subscription_id)
            subscription.previous_secret = subscription.secret
            subscription.previous_valid_until = self._clock() + grace_seconds
            subscription.secret = new_secret
        logger.info("webhook subscription %s secret rotated (grace %s s)", subscription_id, grace_seconds)

    def deliver(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Enqueue ``(customer_id, event)`` pairs for every matching subscription; returns deliveries queued.

        Every event is checked (string ``id``, ``type``, ``occurred_at``) before any is queued.
        """
        batch = [(customer_id, _to_delivery(customer_id, event)) for customer_id, event in events]
        queued = 0
        with self._changed:
            self._ensure_open()
            for subscription in self._subscriptions.values():
                for customer_id, delivery in batch:
                    if subscription.customer_id in (None, customer_id):
                        subscription.queue.append(delivery)
                        queued += 1
            self._changed.notify_all()
        return queued

    def replay(self, events: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Enqueue already-sent events again; the idempotency key is still the event id."""
        return self.deliver(events)

    def stats(self) -> dict[str, int]:
        """Counters: ``delivered``, ``failed_attempts``, ``dropped``, ``pending``, ``subscriptions``."""
        with self._changed:
            return {
                "delivered": self._delivered,
                "failed_attempts": self._failed_attempts,
                "dropped": self._dropped,
                "pending": sum(len(s.queue) for s in self._subscriptions.values()),
                "subscriptions": len(self._subscriptions),
            }

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until nothing is pending (True) or ``timeout_s`` passes (False)."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while any(s.queue for s in self._subscriptions.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._stopping.is_set():
                    return False
                self._changed.wait(remaining)
            return True

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop the workers (interrupting backoff waits); undelivered events are abandoned."""
        with self._changed:
            self._stopping.set()
            self._changed.notify_all()
            threads = [s.thread for s in self._subscriptions.values() if s.thread is not None]
        deadline = time.monotonic() + timeout_s
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> WebhookDispatcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ensure_open(self) -> None:
        if self._stopping.is_set():
            raise RuntimeError("the webhook dispatcher is closed")

    def _subscription(self, subscription_id: str) -> _Subscription:
        try:
            return self._subscriptions[subscription_id]
        except KeyError:
            raise ValueError(f"unknown webhook subscription {subscription_id!r}") from None

    def _run(self, subscription: _Subscription) -> None:
        with requests.Session() as session:
            session.trust_env = False
            while True:
                with self._changed:
                    while not subscription.queue and not self._stopping.is_set():
                        self._changed.wait()
                    if self._stopping.is_set():
                        return
                    delivery = subscription.queue[0]
                outcome = self._deliver_with_retries(session, subscription, delivery)
                if outcome is None:
                    return
                with self._changed:
                    subscription.queue.popleft()
                    if outcome:
                        self._delivered += 1
                    else:
                        self._dropped += 1
                    self._changed.notify_all()

    def _deliver_with_retries(
        self, session: requests.Session, subscription: _Subscription, delivery: _Delivery
    ) -> bool | None:
        """True once delivered, False when attempts ran out, None when the dispatcher closed."""
        for attempt in range(1, self._max_attempts + 1):
            if self._post(session, subscription, delivery, attempt):
                return True
            with self._changed:
                self._failed_attempts += 1
                self._changed.notify_all()
            if attempt == self._max_attempts:
                break
            delay = min(self._backoff_cap_s, self._backoff_base_s * 2 ** (attempt - 1))
            if self._stopping.wait(delay):
                return None
        logger.warning(
            "webhook event %s to %s dropped after %d attempts", delivery.event_id, subscription.id, attempt
        )
        return False

    def _post(
        self, session: requests.Session, subscription: _Subscription, delivery: _Delivery, attempt: int
    ) -> bool:
        now = self._clock()
        with self._changed:
            signing_secrets = subscription.signing_secrets(now)
            url = subscription.url
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: signature_header(signing_secrets, int(now), delivery.body),
            IDEMPOTENCY_HEADER: delivery.event_id,
            EVENT_TYPE_HEADER: delivery.event_type,
        }
        try:
            response = session.post(
                url, data=delivery.body, headers=headers, timeout=self._timeout_s, allow_redirects=False
            )
        except requests.RequestException as exc:
            logger.warning(
                "webhook event %s to %s attempt %d: %s",
                delivery.event_id,
                subscription.id,
                attempt,
                type(exc).__name__,
            )
            return False
        with response:
            status = response.status_code
        if 200 <= status < 300:
            logger.info("webhook event %s delivered to %s (attempt %d)", delivery.event_id, url, attempt)
            return True
        logger.warning(
            "webhook event %s to %s attempt %d: HTTP %d", delivery.event_id, subscription.id, attempt, status
        )
        return False


__all__ = ["WebhookDispatcher", "check_local_url"]
