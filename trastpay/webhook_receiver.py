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

import asyncio
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import h11
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from uvicorn.protocols.http.h11_impl import H11Protocol

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
DEFAULT_READ_TIMEOUT_S = 10.0
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


class _HeaderNames:
    """Header lookup by name in any letter case: a proxy may lower-case names, HTTP/2 always does."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._values: dict[str, str] = {}
        for name, value in headers.items():
            self._values.setdefault(name.lower(), value)

    def get(self, name: str) -> str | None:
        return self._values.get(name.lower())


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
        """The answer to one delivery; header names are matched case-insensitively (RFC 9110)."""
        answer = self._decide(_HeaderNames(headers), body)
        self._count(answer.outcome)
        if answer.status >= 400:
            logger.warning("webhook delivery rejected (%d): %s", answer.status, answer.reason)
        return answer

    def _decide(self, headers: _HeaderNames, body: bytes) -> Answer:
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


class _RequestDeadline(H11Protocol):
    """uvicorn's h11 connection with one deadline for a whole request (headers and body).

    uvicorn times out idle keep-alive connections but not a request that is still arriving, so a
    client trickling its headers or body would hold its connection open for ever. The deadline
    starts when the connection opens and again after every answer; it does not move while bytes
    trickle in. A request already read in full is never cut: the application is answering it.
    """

    read_timeout_s: float = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self._deadline = self.loop.call_later(self.read_timeout_s, self._deadline_passed)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _deadline_passed(self) -> None:
        self._deadline = None
        answering = self.cycle is not None and not self.cycle.response_complete
        if answering and self.conn.their_state is h11.DONE:
            return
        if not self.transport.is_closing():
            logger.warning(
                "webhook request not received in full within %.1f s; connection closed", self.read_timeout_s
            )
            self.transport.close()


def _json_answer(answer: Answer, *, close: bool = False) -> Response:
    headers = {"Connection": "close"} if close else None
    return Response(answer.body(), status_code=answer.status, media_type="application/json", headers=headers)


def _asgi_app(verifier: WebhookVerifier) -> Starlette:
    async def receive(request: Request) -> Response:
        if request.method != "POST":
            healthy = request.method == "GET" and request.url.path == "/healthz"
            return _json_answer(Answer(200, "ok") if healthy else _reject(405, "POST webhooks here"))
        length_text = request.headers.get("content-length")
        if length_text is None or not length_text.isdigit():
            return _json_answer(_reject(411, "Content-Length is required"), close=True)
        if int(length_text) > MAX_BODY_BYTES:
            return _json_answer(_reject(413, f"body larger than {MAX_BODY_BYTES} bytes"), close=True)
        try:
            body = await request.body()
        except ClientDisconnect:
            return _json_answer(_reject(400, "the client went away before the body was complete"), close=True)
        try:
            answer = await run_in_threadpool(verifier.handle, request.headers, body)
        except Exception as exc:
            logger.error("webhook delivery failed to apply: %s", type(exc).__name__)
            answer = Answer(500, "error", "could not apply the event; retry later")
        return _json_answer(answer)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", receive, methods=methods)])


class WebhookReceiver:
    """An HTTP server (Starlette on uvicorn, h11) in front of a :class:`WebhookVerifier`.

    The listening socket is bound in the constructor, so :attr:`url` is known (and a busy port
    reported) before serving starts. A request must arrive in full within ``read_timeout_s``;
    the verifier's SQLite work runs in a thread pool, so slow or half-sent requests hold no thread.
    """

    def __init__(
        self,
        verifier: WebhookVerifier,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
    ) -> None:
        if not read_timeout_s > 0:
            raise ValueError(f"read_timeout_s must be positive, got {read_timeout_s!r}")
        self.verifier = verifier
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, port))
            self._socket.listen(128)
        except OSError:
            self._socket.close()
            raise
        protocol = type("WebhookConnection", (_RequestDeadline,), {"read_timeout_s": read_timeout_s})
        config = uvicorn.Config(
            _asgi_app(verifier),
            http=protocol,
            lifespan="off",
            access_log=False,
            log_config=None,
            log_level=logging.WARNING,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host!s}:{port}/"

    def serve_forever(self) -> None:
        """Serve until :meth:`stop`, SIGINT or SIGTERM (uvicorn re-raises the signal once it has stopped)."""
        self._server.run(sockets=[self._socket])

    def start(self) -> WebhookReceiver:
        """Serve from a background thread (tests, embedding); returns once connections are accepted."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self.serve_forever, name="trastpay-webhooks", daemon=True)
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the webhook receiver stopped while starting")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


__all__ = [
    "DEFAULT_READ_TIMEOUT_S",
    "MAX_BODY_BYTES",
    "Answer",
    "ReceiverSecrets",
    "WebhookReceiver",
    "WebhookStore",
    "WebhookVerifier",
]
