"""The ASGI layer that applies the hostile-data switches of :mod:`trastpay_sandbox.hostile`.

It sits inside :class:`~trastpay_sandbox.middleware.FaultMiddleware` and, while no hostile switch
is set, passes every request straight through. With switches set it may rewrite a data request
(page size, planted page tokens), answer it with a planted error, or buffer the answer and
rewrite its JSON page. It also watches the auth routes and the OTP hook when ``record_secrets``
is on, so a leak scan knows every secret that existed (``GET /_sandbox/issued-secrets``).
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trastpay_sandbox.faults import Faults
from trastpay_sandbox.hostile import (
    PLANTED_PANS,
    grouped,
    html_page,
    pan_error_body,
    plant_pans_in_record,
    rewrite_record,
)
from trastpay_sandbox.middleware import API_PREFIX, read_body, replaying
from trastpay_sandbox.routes_api import LIST_ROUTES
from trastpay_sandbox.switches import HOSTILE_KEYS

_AUTH_PREFIX = API_PREFIX + "/auth/"
_TOKEN_ROUTES = (API_PREFIX + "/auth/login", API_PREFIX + "/auth/refresh")
_OTP_HOOK = "/_sandbox/otp"
_URL_PAN = PLANTED_PANS[3]
_NAN_MARK = "\x00nan-mark\x00"
_STREAM_PATHS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile("^/cards$"), "cards"),
    (re.compile("^/statement$"), "card_transactions"),
    *(
        (re.compile("^" + re.sub(r"\{[a-z_]+\}", "[^/]+", path) + "$"), stream)
        for path, stream, _, _ in LIST_ROUTES
    ),
)


def stream_of(path: str) -> str | None:
    """The stream a data path serves (``/api/v1/trastpay/transfers`` -> ``transfers``)."""
    relative = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
    for pattern, stream in _STREAM_PATHS:
        if pattern.match(relative):
            return stream
    return None


@dataclass
class IssuedSecrets:
    """Every token pair and OTP the sandbox handed out while ``record_secrets`` was on."""

    access_tokens: list[str] = field(default_factory=list)
    refresh_tokens: list[str] = field(default_factory=list)
    otps: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, list[str]]:
        return {"access_tokens": self.access_tokens, "refresh_tokens": self.refresh_tokens, "otps": self.otps}


@dataclass
class _Counts:
    """Per-configuration selection state (restarted whenever the switches are replaced)."""

    config: dict[str, Any]
    pages: int = 0
    requests: int = 0
    corrupt_left: int = 0


_SECRETS: weakref.WeakKeyDictionary[Faults, IssuedSecrets] = weakref.WeakKeyDictionary()


def issued_secrets_of(faults: Faults) -> IssuedSecrets:
    found = _SECRETS.get(faults)
    if found is None:
        found = _SECRETS[faults] = IssuedSecrets()
    return found


class HostileMiddleware:
    """Applies the hostile switches (see :mod:`trastpay_sandbox.hostile`) to the data routes."""

    def __init__(self, app: ASGIApp, *, faults: Faults) -> None:
        self.app = app
        self.faults = faults
        self._counts = _Counts(config={})

    def _state(self) -> _Counts:
        config = self.faults.config
        if self._counts.config is not config:
            corrupt = config.get("corrupt_page") or {}
            self._counts = _Counts(config=config, corrupt_left=int(corrupt.get("next_n", 0)))
        return self._counts

    def _count(self, key: str) -> None:
        self.faults.counters[key] = self.faults.counters.get(key, 0) + 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        config = self.faults.config
        if scope["type"] != "http" or not any(key in config for key in HOSTILE_KEYS):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path in _TOKEN_ROUTES or path == _OTP_HOOK:
            if "record_secrets" in config:
                await self.app(scope, receive, self._secret_recorder(send, path))
            else:
                await self.app(scope, receive, send)
            return
        if not path.startswith(API_PREFIX) or path.startswith(_AUTH_PREFIX):
            await self.app(scope, receive, send)
            return
        state = self._state()
        state.requests += 1
        planted = config.get("plant_pan") or {"in": []}
        extra_headers = self._pan_headers() if "headers" in planted["in"] else []
        if "error_body" in planted["in"] and state.requests % planted["error_every_n"] == 0:
            self._count("plant_pan")
            await self._send_raw(
                send,
                planted["error_status"],
                b"application/problem+json",
                pan_error_body(planted["error_status"]),
                extra_headers,
            )
            return
        scope, receive = await self._rewrite_request(scope, receive, config)
        await self.app(scope, receive, self._page_rewriter(send, stream_of(path), state, extra_headers))

    # --- requests ------------------------------------------------------------------------------

    async def _rewrite_request(
        self, scope: Scope, receive: Receive, config: dict[str, Any]
    ) -> tuple[Scope, Receive]:
        huge = config.get("huge_page")
        strip_url_pan = "url" in (config.get("plant_pan") or {"in": []})["in"]
        if huge is None and not strip_url_pan:
            return scope, receive
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        changed = []
        for name, value in query:
            if name == "page_token" and strip_url_pan and value.startswith(_URL_PAN + "~"):
                value = value[len(_URL_PAN) + 1 :]
            if name == "page_size" and huge is not None:
                continue
            changed.append((name, value))
        if huge is not None and scope.get("method") == "GET":
            changed.append(("page_size", str(huge["page_size"])))
            self._count("huge_page")
        scope = {**scope, "query_string": urlencode(changed).encode("latin-1")}
        if huge is None or scope.get("method") != "POST":
            return scope, receive
        return scope, await self._with_page_size(receive, int(huge["page_size"]))

    async def _with_page_size(self, receive: Receive, page_size: int) -> Receive:
        body, document = await read_body(receive)
        if isinstance(document, dict):
            document["page_size"] = page_size
            body = orjson.dumps(document)
            self._count("huge_page")
        return replaying(body, receive)

    # --- responses -----------------------------------------------------------------------------

    def _pan_headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-debug-card", PLANTED_PANS[0].encode()),
            (b"warning", b'199 - "card %s flagged"' % grouped(PLANTED_PANS[1], " ").encode()),
        ]

    @staticmethod
    async def _send_raw(
        send: Send, status: int, content_type: bytes, body: bytes, extra: list[tuple[bytes, bytes]]
    ) -> None:
        headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _page_rewriter(
        self, send: Send, stream: str | None, state: _Counts, extra: list[tuple[bytes, bytes]]
    ) -> Send:
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                held["start"] = message
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            start = held["start"]
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            content_type = dict(headers).get(b"content-type", b"")
            body = b"".join(chunks)
            if start["status"] == 200 and content_type.startswith(b"application/json"):
                body, content_type = self._rewrite_page(body, content_type, stream, state)
                headers = [(k, v) for k, v in headers if k.lower() != b"content-type"]
                headers.append((b"content-type", content_type))
            headers += [(b"content-length", str(len(body)).encode()), *extra]
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body, "more_body": False})

        return rewrite

    def _rewrite_page(
        self, body: bytes, content_type: bytes, stream: str | None, state: _Counts
    ) -> tuple[bytes, bytes]:
        try:
            page = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body, content_type
        if not isinstance(page, dict) or not isinstance(page.get("items"), list) or stream is None:
            return body, content_type
        config = state.config
        items: list[Any] = [
            rewrite_record(config, stream, item) if isinstance(item, dict) else item for item in page["items"]
        ]
        if "schema_drift" in config and config["schema_drift"]["stream"] == stream:
            self._count("schema_drift")
        if "hostile_strings" in config and items:
            self._count("hostile_strings")
        planted = (config.get("plant_pan") or {"in": []})["in"]
        if "records" in planted:
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    plant_pans_in_record(item, index)
            self._count("plant_pan")
        next_page = page.get("next_page")
        if "url" in planted and isinstance(next_page, str):
            next_page = f"{_URL_PAN}~{next_page}"
            self._count("plant_pan")
        page = {**page, "items": items, "next_page": next_page}
        corrupt = config.get("corrupt_page")
        if corrupt is None or corrupt.get("stream", stream) != stream:
            return orjson.dumps(page), content_type
        state.pages += 1
        if "every_n" in corrupt:
            fires = state.pages % corrupt["every_n"] == 0
        else:
            fires = state.corrupt_left > 0
            state.corrupt_left -= int(fires)
        if not fires:
            return orjson.dumps(page), content_type
        self._count("corrupt_page")
        return self._corrupt(corrupt["kind"], page), (
            b"text/html; charset=utf-8" if corrupt["kind"] == "html" else content_type
        )

    @staticmethod
    def _corrupt(kind: str, page: dict[str, Any]) -> bytes:
        items: list[Any] = page["items"]
        middle = len(items) // 2
        if kind == "html":
            return html_page()
        if kind == "array":
            return orjson.dumps(items)
        if kind == "item_array" and items and isinstance(items[middle], dict):
            items[middle] = list(items[middle].values())
            return orjson.dumps(page)
        if kind == "nan":
            target = items[middle] if items and isinstance(items[middle], dict) else page
            numeric = next((k for k, v in target.items() if type(v) is int), "amount_minor")
            target[numeric] = _NAN_MARK
            return orjson.dumps(page).replace(orjson.dumps(_NAN_MARK), b"NaN", 1)
        parts = [orjson.dumps(item) for item in items]
        whole = b'{"items":[%s],"next_page":%s}' % (b",".join(parts), orjson.dumps(page.get("next_page")))
        if not parts:
            return whole[: max(1, len(whole) // 2)]
        offset = len(b'{"items":[') + sum(len(part) + 1 for part in parts[:middle])
        return whole[: offset + max(1, len(parts[middle]) // 2)]

    # --- secrets -------------------------------------------------------------------------------

    def _secret_recorder(self, send: Send, path: str) -> Send:
        chunks: list[bytes] = []
        secrets = issued_secrets_of(self.faults)

        async def record(message: Message) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    try:
                        document = orjson.loads(b"".join(chunks))
                    except orjson.JSONDecodeError:
                        document = None
                    if isinstance(document, dict):
                        self._remember(secrets, document, path)
            await send(message)

        return record

    def _remember(self, secrets: IssuedSecrets, document: dict[str, Any], path: str) -> None:
        if path == _OTP_HOOK:
            if isinstance(document.get("otp"), str):
                secrets.otps.append(document["otp"])
                self._count("record_secrets")
            return
        for key, bucket in (
            ("access_token", secrets.access_tokens),
            ("refresh_token", secrets.refresh_tokens),
        ):
            value = document.get(key)
            if isinstance(value, str):
                bucket.append(value)
                self._count("record_secrets")


__all__ = ["HostileMiddleware", "IssuedSecrets", "issued_secrets_of", "stream_of"]
