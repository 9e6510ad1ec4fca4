"""Pure ASGI layers around the app: request ids, consent-id echo and fault injection.

They are plain ASGI callables rather than ``BaseHTTPMiddleware`` so a 600 KB statement page
passes through without being copied or re-streamed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import string
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trastpay_sandbox.auth import AuthService
from trastpay_sandbox.faults import Faults
from trastpay_sandbox.problems import Problem, rate_limited, server_error

API_PREFIX = "/api/v1/trastpay"
_AUTH_PREFIX = API_PREFIX + "/auth/"
_PROMISED_LENGTH = 65_536


def _request_id() -> str:
    """``req_`` and 16 random lower-case letters (75 bits): no digit, so an id the connectors log
    can never be mistaken for a card number by a PAN scanner (hex ids sometimes were: 15 digits
    in a row that pass Luhn)."""
    return "req_" + "".join(secrets.choice(string.ascii_lowercase) for _ in range(16))


class InjectedConnectionReset(ConnectionError):
    """Raised on purpose after a partial response so the server drops the connection."""


class _HideInjectedResets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], InjectedConnectionReset))


def quiet_injected_resets() -> None:
    """Keep uvicorn from logging a traceback for each reset the fault switch asked for."""
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideInjectedResets) for f in logger.filters):
        logger.addFilter(_HideInjectedResets())


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


class RequestIdMiddleware:
    """Adds ``X-Request-Id`` to every response, echoes ``X-Consent-Id`` and sends ``Date``.

    ``Date`` comes from the sandbox clock (``now``), not the host's: clients that take the server's
    ``Date`` as "now" (the connector core does) then agree with the data after a clock advance.
    """

    def __init__(self, app: ASGIApp, *, now: Callable[[], datetime] | None = None) -> None:
        self.app = app
        self.now = now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra: list[tuple[bytes, bytes]] = [(b"x-request-id", _request_id().encode())]
        consent = _header(scope, b"x-consent-id")
        if consent is not None and 0 < len(consent) <= 200:
            extra.append((b"x-consent-id", consent))
        if self.now is not None:
            extra.append((b"date", format_datetime(self.now().astimezone(UTC), usegmt=True).encode()))
        scope.setdefault("state", {})["request_id"] = extra[0][1].decode()

        async def send_with_ids(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                message["headers"] = [*headers, *extra]
            await send(message)

        await self.app(scope, receive, send_with_ids)


async def read_body(receive: Receive) -> tuple[bytes, Any]:
    """The whole request body and its JSON document (``None`` when it is not JSON).

    Stops at the first message that is not ``http.request`` (a client that hung up), so a cut body
    is returned as far as it came; the app then sees the same cut body through :func:`replaying`.
    """
    parts: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(parts)
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        document = None
    return body, document


def replaying(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that answers ``body`` in one message, then defers to the real ``receive``."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def with_content_length(start: Message, body: bytes) -> Message:
    """``http.response.start`` with its ``content-length`` header set to ``len(body)``."""
    start["headers"] = [
        (k, str(len(body)).encode() if k == b"content-length" else v) for k, v in start["headers"]
    ]
    return start


_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class HookOriginGuard:
    """Refuses a state-changing ``/_sandbox/*`` request sent by a web page of another origin.

    The hooks hand out OTPs and move the clock; a browser tab on any site could otherwise POST to
    a sandbox on the same machine. Requests without ``Origin`` (curl, the test harness, the
    connectors) are not browsers' cross-site requests and pass.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in ("GET", "HEAD", "OPTIONS")
            and str(scope["path"]).startswith("/_sandbox")
        ):
            origin = _header(scope, b"origin")
            if origin is not None and urlsplit(origin.decode("latin-1")).hostname not in _LOOPBACK_HOSTS:
                response = Problem(
                    403, "cross-origin", "requests to /_sandbox from a web page of another origin are refused"
                ).response()
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def bearer_key(scope: Scope) -> str:
    """The token digest that identifies a caller for per-token faults (not a validation)."""
    raw = _header(scope, b"authorization") or b""
    token = raw.partition(b" ")[2].strip()
    return hashlib.sha256(token).hexdigest() if token else "anonymous"


class FaultMiddleware:
    """Applies :class:`~trastpay_sandbox.faults.Faults` to the data routes."""

    def __init__(self, app: ASGIApp, *, faults: Faults, auth: AuthService) -> None:
        self.app = app
        self.faults = faults
        self.auth = auth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(API_PREFIX) or path.startswith(_AUTH_PREFIX):
            await self.app(scope, receive, send)
            return
        faults = self.faults
        token_key = bearer_key(scope)
        decision = faults.decide(token_key)
        if decision.delay_s:
            await asyncio.sleep(decision.delay_s)
        if decision.status is not None:
            problem: Problem = (
                rate_limited(decision.retry_after_s or 1, "rate limit exceeded (sandbox fault)")
                if decision.status == 429
                else server_error(decision.status, "injected server error (sandbox fault)")
            )
            await problem.response()(scope, receive, send)
            return
        if decision.reset:
            await self._reset(send)
            return
        if "malformed_page" not in faults.config and "expire_token_after_pages" not in faults.config:
            await self.app(scope, receive, send)
            return
        await self.app(scope, receive, self._page_watcher(send, token_key))

    @staticmethod
    async def _reset(send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(_PROMISED_LENGTH).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b'{"items": [{"id": "', "more_body": True})
        raise InjectedConnectionReset("connection reset (sandbox fault)")

    def _page_watcher(self, send: Send, token_key: str) -> Send:
        held: dict[str, Any] = {}

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                content_type = dict(message.get("headers", [])).get(b"content-type", b"")
                if message["status"] == 200 and content_type.startswith(b"application/json"):
                    held["start"] = message
                    return
                await send(message)
                return
            start = held.pop("start", None)
            if start is None or message.get("more_body", False):
                if start is not None:
                    await send(start)
                await send(message)
                return
            truncate, expire_after = self.faults.page_served()
            if expire_after is not None and self.auth.count_page(token_key, expire_after):
                self.faults.counters["expire_token_after_pages"] += 1
            body: bytes = message.get("body", b"")
            if truncate:
                body = body[: max(1, len(body) // 2)]
                with_content_length(start, body)
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        return watch
