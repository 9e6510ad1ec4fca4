"""Fault switches about a client's session and its view of time: tokens, lost answers, visibility.

They live beside :mod:`trastpay_sandbox.faults` (same ``--faults`` / ``POST /_sandbox/faults``
configuration, same counters) but act in their own ASGI layer, :class:`SessionFaultMiddleware`,
which sits outside the fault layer so its journal also sees the 429s and 5xx that layer injects.

``journal`` true
    record every API request (auth included): server monotonic time ``t``, method, path, query,
    ``page`` (``"<card_token>:<page>"`` of a ``POST /statement`` body), status, a short token
    digest, whether the answer was lost or broken. ``GET /_sandbox/requests`` reads it; it lets a
    test prove *when* a client retried.
``revoke_access_after_pages`` {after_pages, reject_refreshed?}
    once that many data pages were served, the access token that fetched the last one is revoked
    (401 ``unauthorized``) mid-pagination. ``reject_refreshed: true`` also refuses every access
    token used after that (the "rejected again" case: a client must stop, not loop).
``lose_refresh_answer`` {next_n}
    the next ``next_n`` successful ``POST /auth/refresh`` answers are lost *after* the server
    rotated: the connection breaks mid-body. The only switch that touches ``/auth/*``.
``late_visible`` {delay_s, every_n}
    every ``every_n``-th record (by a stable hash of its ``id``) stays invisible in data answers
    until the sandbox clock passes its cursor (``updated_at``, else ``occurred_at`` / ``paid_at``)
    plus ``delay_s`` seconds; the truth hook always shows it. The answer's ``complete_until``
    watermark is moved back by ``delay_s``, as a real API would announce its publishing lag.
``coarse_cursors`` {seconds}
    card transactions carry ``occurred_at`` rounded down to a multiple of ``seconds`` in data
    answers *and* in the truth, so many records share one cursor value across page boundaries.
    Filters still apply to the exact time, which stays consistent: rounding down is monotonic, so
    ``from=C`` still returns every record whose rounded value is ``C`` or later.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trastpay_sandbox.faults import Faults
from trastpay_sandbox.middleware import (
    API_PREFIX,
    InjectedConnectionReset,
    bearer_key,
    read_body,
    replaying,
    with_content_length,
)
from trastpay_sandbox.problems import Problem
from trastpay_sandbox.switches import SESSION_KEYS

REFRESH_PATH = API_PREFIX + "/auth/refresh"
JOURNAL_LIMIT = 200_000
_CURSOR_FIELDS = ("updated_at", "occurred_at", "paid_at")


def coarse_instant(value: str, seconds: int) -> str:
    """``value`` (RFC 3339) rounded down to a multiple of ``seconds``, keeping its UTC offset."""
    moment = datetime.fromisoformat(value)
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, moment.tzinfo).isoformat()


def rewrite_truth_session(
    config: dict[str, Any], stream: str, records: Iterable[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """The truth as the session switches present it (``coarse_cursors`` rounds card transactions)."""
    coarse = config.get("coarse_cursors")
    if coarse is None or stream != "card_transactions":
        yield from records
        return
    for record in records:
        value = record.get("occurred_at")
        yield (
            {**record, "occurred_at": coarse_instant(value, coarse["seconds"])}
            if isinstance(value, str)
            else record
        )


@dataclass
class SessionFaultState:
    """What the session switches remember between requests; restarts whenever the faults change."""

    journal: list[dict[str, Any]] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    revoked_any: bool = False
    pages: int = 0
    lost: int = 0
    _config: object = None

    def follow(self, config: dict[str, Any]) -> None:
        if config is not self._config:
            self._config = config
            self.journal = []
            self.revoked = set()
            self.revoked_any = False
            self.pages = 0
            self.lost = 0

    def record(self, entry: dict[str, Any]) -> None:
        if len(self.journal) < JOURNAL_LIMIT:
            self.journal.append(entry)


def _stable_bucket(record_id: str, every_n: int) -> bool:
    digest = hashlib.blake2b(record_id.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big") % every_n == 0


def _cursor_of(item: dict[str, Any], statement: bool) -> str | None:
    names = ("occurred_at",) if statement else _CURSOR_FIELDS
    for name in names:
        value = item.get(name)
        if isinstance(value, str):
            return value
    return None


class SessionFaultMiddleware:
    """Applies the session switches (see the module docstring) to ``/api/v1/trastpay``."""

    def __init__(
        self, app: ASGIApp, *, faults: Faults, state: SessionFaultState, now: Callable[[], datetime]
    ) -> None:
        self.app = app
        self.faults = faults
        self.state = state
        self.now = now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        config = self.faults.config
        if (
            scope["type"] != "http"
            or not path.startswith(API_PREFIX)
            or not any(key in config for key in SESSION_KEYS)
        ):
            await self.app(scope, receive, send)
            return
        state = self.state
        state.follow(config)
        token_key = bearer_key(scope)
        entry: dict[str, Any] = {
            "t": time.monotonic(),
            "method": scope.get("method", ""),
            "path": path,
            "query": {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()},
            "page": None,
            "status": None,
            "token": token_key[:12],
        }
        if "journal" in config:
            state.record(entry)
            receive = await self._capture_page(receive, entry)
        is_auth = path.startswith(API_PREFIX + "/auth/")
        try:
            if path == REFRESH_PATH and "lose_refresh_answer" in config:
                await self._maybe_lose(scope, receive, send, entry)
            elif not is_auth and self._refused(token_key, config):
                entry["status"] = 401
                await self._revoked_problem(scope, receive, send)
            else:
                await self.app(scope, receive, self._watch(send, entry, token_key, is_auth, config))
        except InjectedConnectionReset:
            entry["broken"] = True
            raise

    @staticmethod
    async def _capture_page(receive: Receive, entry: dict[str, Any]) -> Receive:
        """Read a statement request's body up front (journal its page), then replay it to the app."""
        if entry["method"] != "POST" or not entry["path"].endswith("/statement"):
            return receive
        body, document = await read_body(receive)
        if isinstance(document, dict):
            entry["page"] = f"{document.get('card_token')}:{document.get('page')}"
        return replaying(body, receive)

    def _refused(self, token_key: str, config: dict[str, Any]) -> bool:
        revoke = config.get("revoke_access_after_pages")
        if revoke is None:
            return False
        state = self.state
        refused = token_key in state.revoked or (revoke["reject_refreshed"] and state.revoked_any)
        if refused:
            self.faults.counters["revoke_access_after_pages"] += 1
        return refused

    @staticmethod
    async def _revoked_problem(scope: Scope, receive: Receive, send: Send) -> None:
        problem = Problem(
            401,
            "unauthorized",
            "unknown or revoked access token (sandbox fault)",
            field="Authorization",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
        await problem.response()(scope, receive, send)

    async def _maybe_lose(self, scope: Scope, receive: Receive, send: Send, entry: dict[str, Any]) -> None:
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        status = next((m["status"] for m in held if m["type"] == "http.response.start"), None)
        entry["status"] = status
        spec = self.faults.config.get("lose_refresh_answer") or {}
        if status == 200 and self.state.lost < int(spec.get("next_n", 0)):
            self.state.lost += 1
            self.faults.counters["lose_refresh_answer"] += 1
            entry["lost"] = True
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"access_token": "', "more_body": True})
            raise InjectedConnectionReset("refresh answer lost (sandbox fault)")
        for message in held:
            await send(message)

    def _watch(
        self, send: Send, entry: dict[str, Any], token_key: str, is_auth: bool, config: dict[str, Any]
    ) -> Send:
        late = None if is_auth else config.get("late_visible")
        coarse = config.get("coarse_cursors") if entry["path"].endswith("/statement") else None
        revoke = None if is_auth else config.get("revoke_access_after_pages")
        statement = entry["path"].endswith("/statement")
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                is_page = message["status"] == 200 and dict(message.get("headers", [])).get(
                    b"content-type", b""
                ).startswith(b"application/json")
                if is_page and revoke is not None:
                    self._count_page(token_key, revoke)
                if is_page and (late is not None or coarse is not None):
                    held["start"] = message
                    return
                await send(message)
                return
            if "start" not in held:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = self._rewrite(b"".join(chunks), late, coarse, statement)
            start = held.pop("start")
            await send(with_content_length(start, body))
            await send({"type": "http.response.body", "body": body, "more_body": False})

        return watch

    def _count_page(self, token_key: str, revoke: dict[str, Any]) -> None:
        state = self.state
        state.pages += 1
        if state.pages == revoke["after_pages"]:
            state.revoked.add(token_key)
            state.revoked_any = True

    def _rewrite(
        self, body: bytes, late: dict[str, Any] | None, coarse: dict[str, Any] | None, statement: bool
    ) -> bytes:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        items = document.get("items") if isinstance(document, dict) else None
        if not isinstance(items, list):
            return body
        if late is not None:
            items = self._visible(items, late, statement)
            document["complete_until"] = self._lowered_watermark(document.get("complete_until"), late)
        if coarse is not None:
            items = [
                {**item, "occurred_at": coarse_instant(item["occurred_at"], coarse["seconds"])}
                if isinstance(item, dict) and isinstance(item.get("occurred_at"), str)
                else item
                for item in items
            ]
        document["items"] = items
        return orjson.dumps(document)

    def _lowered_watermark(self, watermark: object, late: dict[str, Any]) -> object:
        """The answer's ``complete_until`` moved back by the hiding delay: what is final is older."""
        if not isinstance(watermark, str):
            return watermark
        lowered = datetime.fromisoformat(watermark) - timedelta(seconds=late["delay_s"])
        return lowered.isoformat()

    def _visible(self, items: list[Any], late: dict[str, Any], statement: bool) -> list[Any]:
        now = self.now()
        delay = timedelta(seconds=late["delay_s"])
        kept = []
        for item in items:
            cursor = _cursor_of(item, statement) if isinstance(item, dict) else None
            record_id = item.get("id") if isinstance(item, dict) else None
            if (
                cursor is not None
                and isinstance(record_id, str)
                and _stable_bucket(record_id, late["every_n"])
                and now < datetime.fromisoformat(cursor) + delay
            ):
                self.faults.counters["late_visible"] += 1
                continue
            kept.append(item)
        return kept
