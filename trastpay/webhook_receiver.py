"""A small receiver for Trastpay webhooks that applies every event exactly once.

What a delivery must pass, in order: a body of sane size, a valid ``X-Trastpay-Signature``
(constant-time HMAC check, timestamp within ``tolerance_s`` in either direction, the previous
secret only until its grace period ends), a signature not seen before (a captured request
replayed within the tolerance is refused), a JSON event whose ``id`` equals ``X-Idempotency-Key``.
The event is then stored in SQLite in one transaction together with the signature it came with;
the idempotency key is the table's primary key, so a redelivery (the sender retries until it gets
a 2xx, and replays on request) is answered ``200 duplicate`` and never applied twice. Rejections
are 4xx with a short reason. Secrets never reach a log line, an answer or a ``repr``.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import orjson

from trastpay.webhook_signatures import (
    DEFAULT_TOLERANCE_S,
    EVENT_TYPE_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    SignatureFormatError,
    SignatureMismatchError,
    SignatureTimestampError,
    verify_signature,
)

logger = logging.getLogger("trastpay.webhooks")

MAX_BODY_BYTES = 1 << 20
Outcome = Literal["applied", "duplicate", "replayed"]
EventHook = Callable[[sqlite3.Connection, Mapping[str, Any]], None]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS webhook_events (
        idempotency_key TEXT PRIMARY KEY,
        event_type TEXT NOT NULL,
        occurred_at TEXT,
        received_at TEXT NOT NULL,
        body TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS webhook_signatures_seen (
        signature TEXT PRIMARY KEY,
        signed_at INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS webhook_signatures_seen_at ON webhook_signatures_seen (signed_at)",
)


@dataclass(frozen=True, slots=True)
class ReceiverSecrets:
    """The current signing secret and, during a rotation, the previous one until ``grace_until``."""

    current: str = field(repr=False)
    previous: str | None = field(default=None, repr=False)
    grace_until: datetime | None = None

    def __post_init__(self) -> None:
        if not self.current:
            raise ValueError("the webhook secret must not be empty")
        if (self.previous is None) != (self.grace_until is None):
            raise ValueError("a previous secret needs a grace-until time, and a grace time a previous secret")
        if self.grace_until is not None and self.grace_until.tzinfo is None:
            raise ValueError("grace-until needs a UTC offset, e.g. 2026-03-05T12:00:00+05:00")

    def accepted(self, now: float) -> list[str]:
        """The secrets a delivery signed at ``now`` may use: newest first."""
        if self.previous and self.grace_until is not None and now < self.grace_until.timestamp():
            return [self.current, self.previous]
        return [self.current]


class WebhookStore:
    """The SQLite file of applied events and of signatures already seen."""

    def __init__(self, path: str | Path, *, on_event: EventHook | None = None) -> None:
        self.path = Path(path).expanduser()
        self._on_event = on_event
        with closing(self._connect()) as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            for statement in _SCHEMA:
                connection.execute(statement)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30.0, isolation_level=None)

    def record(
        self,
        *,
        key: str,
        event: Mapping[str, Any],
        body: bytes,
        signature: str,
        signed_at: int,
        forget_before: int,
    ) -> Outcome:
        """Apply ``event`` unless its key was applied or its signature seen; one transaction."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("DELETE FROM webhook_signatures_seen WHERE signed_at < ?", (forget_before,))
            try:
                connection.execute(
                    "INSERT INTO webhook_signatures_seen (signature, signed_at) VALUES (?, ?)",
                    (signature, signed_at),
                )
            except sqlite3.IntegrityError:
                connection.execute("ROLLBACK")
                return "replayed"
            inserted = connection.execute(
                "INSERT INTO webhook_events (idempotency_key, event_type, occurred_at, received_at, body) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING",
                (
                    key,
                    str(event.get("type", "")),
                    event.get("occurred_at") if isinstance(event.get("occurred_at"), str) else None,
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    body.decode("utf-8"),
                ),
            ).rowcount
            if inserted and self._on_event is not None:
                self._on_event(connection, event)
            connection.execute("COMMIT")
            return "applied" if inserted else "duplicate"
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    def events(self) -> list[dict[str, Any]]:
        """Every stored event, in the order it was applied."""
        with closing(self._connect()) as connection:
            rows = connection.execute("SELECT body FROM webhook_events ORDER BY rowid").fetchall()
        return [orjson.loads(row[0]) for row in rows]

    def count(self) -> int:
        with closing(self._connect()) as connection:
            return int(connection.execute("SELECT COUNT(*) FROM webhook_events").fetchone()[0])


@dataclass(frozen=True, slots=True)
class Answer:
    """The HTTP answer to one delivery."""

    status: int
    outcome: str
    reason: str | None = None

    def body(self) -> bytes:
        document: dict[str, str] = {"status": self.outcome}
        if self.reason:
            document["reason"] = self.reason
        return orjson.dumps(document)


def _reject(status: int, reason: str) -> Answer:
    return Answer(status, "rejected", reason)


class WebhookVerifier:
    """Decides the answer to a delivery and stores what is accepted; independent of HTTP."""

    def __init__(
        self,
        store: WebhookStore,
        secrets: ReceiverSecrets,
        *,
        tolerance_s: int = DEFAULT_TOLERANCE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._secrets = secrets
        self._tolerance_s = tolerance_s
        self._clock = clock
        self._lock = threading.Lock()
        self.counts: dict[str, int] = {"applied": 0, "duplicate": 0, "rejected": 0}

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def handle(self, headers: Mapping[str, str], body: bytes) -> Answer:
        answer = self._decide(headers, body)
        self._count(answer.outcome)
        if answer.status >= 400:
            logger.warning("webhook delivery rejected (%d): %s", answer.status, answer.reason)
        return answer

    def _decide(self, headers: Mapping[str, str], body: bytes) -> Answer:
        header = headers.get(SIGNATURE_HEADER)
        if not header:
            return _reject(400, f"missing {SIGNATURE_HEADER} header")
        now = self._clock()
        try:
            signed_at, signature = verify_signature(
                header, body, self._secrets.accepted(now), now=int(now), tolerance_s=self._tolerance_s
            )
        except SignatureFormatError as exc:
            return _reject(400, f"malformed signature header: {exc}")
        except SignatureTimestampError as exc:
            return _reject(401, f"signature timestamp refused: {exc}")
        except SignatureMismatchError:
            return _reject(401, "signature does not match")
        key = headers.get(IDEMPOTENCY_HEADER)
        if not key:
            return _reject(400, f"missing {IDEMPOTENCY_HEADER} header")
        try:
            event = orjson.loads(body)
        except orjson.JSONDecodeError:
            return _reject(400, "body is not JSON")
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            return _reject(400, "body is not an event object with a string id")
        if event["id"] != key:
            return _reject(400, f"{IDEMPOTENCY_HEADER} does not match the event id")
        declared = headers.get(EVENT_TYPE_HEADER)
        if declared is not None and declared != event.get("type"):
            return _reject(400, f"{EVENT_TYPE_HEADER} does not match the event type")
        outcome = self.store.record(
            key=key,
            event=event,
            body=body,
            signature=signature,
            signed_at=signed_at,
            forget_before=int(now) - 2 * self._tolerance_s,
        )
        if outcome == "replayed":
            return _reject(409, "replayed delivery: this signature was already used")
        logger.info("webhook event %s (%s) %s", key, event.get("type"), outcome)
        return Answer(200, outcome)


class WebhookReceiver:
    """An HTTP server (one thread per request) in front of a :class:`WebhookVerifier`."""

    def __init__(self, verifier: WebhookVerifier, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.verifier = verifier
        self._server = ThreadingHTTPServer((host, port), _handler_for(verifier))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.2)

    def start(self) -> WebhookReceiver:
        """Serve from a background thread (tests, embedding)."""
        self._thread = threading.Thread(target=self.serve_forever, name="trastpay-webhooks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _handler_for(verifier: WebhookVerifier) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "trastpay-webhooks"
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length_text = self.headers.get("Content-Length")
            if length_text is None or not length_text.isdigit():
                self._send(_reject(411, "Content-Length is required"))
                return
            length = int(length_text)
            if length > MAX_BODY_BYTES:
                self.close_connection = True
                self._send(_reject(413, f"body larger than {MAX_BODY_BYTES} bytes"))
                return
            body = self.rfile.read(length)
            try:
                answer = verifier.handle(dict(self.headers.items()), body)
            except Exception as exc:
                logger.error("webhook delivery failed to apply: %s", type(exc).__name__)
                answer = Answer(500, "error", "could not apply the event; retry later")
            self._send(answer)

        def do_GET(self) -> None:
            self._send(Answer(200, "ok") if self.path == "/healthz" else _reject(405, "POST webhooks here"))

        def _send(self, answer: Answer) -> None:
            payload = answer.body()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("webhook http: " + format, *args)

    return Handler


__all__ = [
    "MAX_BODY_BYTES",
    "Answer",
    "ReceiverSecrets",
    "WebhookReceiver",
    "WebhookStore",
    "WebhookVerifier",
]
