"""A small hostile HTTP server that is not the sandbox: what a compromised proxy or a broken gateway answers.

It speaks just enough of the Trastpay API for a sync to start (``/auth/refresh``, ``/cards``, a few
list endpoints and ``/statement``) and misbehaves in one chosen way (:data:`CASES`): a redirect to
another origin, a body trickling a byte at a time, an endless chunked stream, a huge or
gzip-bomb body, pages that never move forward, card numbers where masking used to miss them,
CR/LF in the issued access token, a ``Retry-After`` of 31 years. A second server on another port
(:attr:`HostileServer.elsewhere`) stands for "another origin": it only counts what reaches it.

Stdlib only (``http.server`` on 127.0.0.1, a free port), so nothing of the sandbox's own request
handling can hide a defect. Every token it issues is listed in :attr:`HostileServer.issued`.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

import orjson

API = "/api/v1/trastpay"
PAN = "4111111111111111"
"""Luhn-valid test card number planted by the PAN cases (also grouped: ``4111 1111 1111 1111``)."""
SEED_TOKEN = "rt_hostile_seed_SECRET_0001"
CASES = (
    "refresh_redirect",
    "data_redirect",
    "slowloris",
    "refresh_slowloris",
    "endless_chunked",
    "huge_body",
    "gzip_bomb",
    "repeated_cursor",
    "same_page",
    "statement_forever",
    "pans_everywhere",
    "pan_problem",
    "crlf_token",
    "huge_retry_after",
)
_NOW = "2026-02-01T10:00:00+05:00"


def _gzip_member(size: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    parts = [compressor.compress(zeros) for _ in range(size >> 20)]
    parts.append(compressor.flush())
    return b"".join(parts)


_BOMB: bytes | None = None


def gzip_bomb() -> bytes:
    """About 2 MB of gzip (concatenated members) that inflates to 2 GiB of zeros; built once."""
    global _BOMB
    if _BOMB is None:
        member = _gzip_member(16 << 20)
        _BOMB = member * ((2 << 30) // (16 << 20))
    return _BOMB


def transfer(n: int, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"trf_h{n:05d}",
        "created_at": _NOW,
        "updated_at": _NOW,
        "status": "completed",
        "amount_minor": 1000 + n,
        "currency": "UZS",
    }
    record.update(fields)
    return record


def card_transaction(n: int) -> dict[str, Any]:
    return {
        "id": f"txn_h{n:05d}",
        "card_token": "crd_H1",
        "occurred_at": _NOW,
        "amount_minor": -500,
        "currency": "UZS",
        "description": "Coffee",
    }


class HostileServer:
    """``with HostileServer("gzip_bomb") as server:`` then point a config at ``server.base_url``."""

    def __init__(self, case: str, *, trickle_s: float = 0.5) -> None:
        if case not in CASES:
            raise ValueError(f"unknown case {case}")
        self.case = case
        self.trickle_s = trickle_s
        self.hits: Counter[str] = Counter()
        self.first_hit: dict[str, float] = {}
        """Per path, ``time.monotonic()`` of its first request (when the hostile exchange began)."""
        self.issued: list[str] = [SEED_TOKEN]
        self._lock = threading.Lock()
        self._refreshes = 0
        self._server = _Server(self)
        self.elsewhere = _Elsewhere()
        self._threads: list[threading.Thread] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}{API}"

    def __enter__(self) -> HostileServer:
        for server in (self._server, self.elsewhere.server):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        for server in (self._server, self.elsewhere.server):
            server.shutdown()
            server.server_close()

    def hit(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1
            self.first_hit.setdefault(path, time.monotonic())

    def next_tokens(self) -> tuple[str, str]:
        with self._lock:
            self._refreshes += 1
            n = self._refreshes
        access = f"at_hostile_{n}_SECRET"
        refresh = f"rt_hostile_{n}_SECRET"
        self.issued += [access, refresh]
        if self.case == "crlf_token":
            access = f"at_hostile_{n}_SECRET\r\nX-Injected: 1"
            self.issued.append(access)
        return access, refresh


class _Quiet(ThreadingHTTPServer):
    """A client that hangs up mid-answer is what several cases cause: not worth a traceback."""

    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class _Server(_Quiet):
    def __init__(self, owner: HostileServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _Handler)


class _Elsewhere:
    """Another origin: counts every request that reaches it, answers 200 with tokens (to be adopted)."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.server = _Quiet(("127.0.0.1", 0), _ElsewhereHandler)
        self.server.counter = self.hits  # type: ignore[attr-defined]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"


class _ElsewhereHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def _any(self) -> None:
        self.server.counter[urlsplit(self.path).path] += 1  # type: ignore[attr-defined]
        body = orjson.dumps(
            {"access_token": "at_STOLEN", "refresh_token": "rt_STOLEN", "expires_in": 3600, "items": []}
        )
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    LIST_PATHS: ClassVar[dict[str, str]] = {
        "/transfers": "transfers",
        "/microloan": "microloans",
        "/events": "events",
    }

    def log_message(self, *args: object) -> None:
        pass

    @property
    def owner(self) -> HostileServer:
        return self.server.owner

    def _path(self) -> str:
        path = urlsplit(self.path).path
        return path[len(API) :] if path.startswith(API) else path

    def _query(self) -> dict[str, str]:
        query = urlsplit(self.path).query
        return dict(part.split("=", 1) for part in query.split("&") if "=" in part)

    def _json(self, document: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        body = orjson.dumps(document)
        self.send_response(status)
        self.send_header("Content-Type", "application/problem+json" if status >= 400 else "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        found = orjson.loads(raw)
        return found if isinstance(found, dict) else {}

    def do_POST(self) -> None:
        path = self._path()
        self.owner.hit(path)
        body = self._body()
        case = self.owner.case
        if path == "/auth/refresh":
            if case == "refresh_redirect":
                self._redirect(307, f"{self.owner.elsewhere.origin}/steal/auth/refresh?from=hostile")
                return
            if case == "refresh_slowloris" and self.owner.hits[path] == 1:
                # the first token answer never finishes; the token counts as maybe spent
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self._trickle(b" " * 100000, 1)
                return
            access, refresh = self.owner.next_tokens()
            scopes = ["cards:read", "statements:read", "transfers:read", "microloan:read", "events:read"]
            self._json(
                {"access_token": access, "refresh_token": refresh, "expires_in": 3600, "scopes": scopes}
            )
            return
        if path == "/statement":
            page = int(body.get("page", 0))
            if case == "statement_forever":
                self._json({"items": [card_transaction(1)], "next_page": page + 1})
                return
            self._json({"items": [card_transaction(1)], "next_page": None})
            return
        self._json({"type": "about:blank", "title": "Not found", "status": 404}, 404)

    def do_GET(self) -> None:
        path = self._path()
        self.owner.hit(path)
        if path == "/cards":
            card = {"card_token": "crd_H1", "pan_masked": "411111******1111", "currency": "UZS"}
            self._json({"items": [card], "next_page": None})
            return
        stream = self.LIST_PATHS.get(path)
        if stream is None:
            self._json({"type": "about:blank", "title": "Not found", "status": 404}, 404)
            return
        if stream == "transfers":
            self._transfers()
        elif stream == "events":
            self._events()
        else:
            self._json(
                {"items": [{"id": "loan_h1", "updated_at": _NOW, "status": "active"}], "next_page": None}
            )

    def _redirect(self, status: int, location: str) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _transfers(self) -> None:
        case = self.owner.case
        token = self._query().get("page_token")
        if case == "data_redirect":
            self._redirect(
                302, f"http://user:pw@127.0.0.1:{self.owner.elsewhere.server.server_port}/steal?x=1"
            )
        elif case == "slowloris":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self._trickle(b" " * 100000, 1)
        elif case == "endless_chunked":
            self._chunked(_slow_forever(self.owner.trickle_s))
        elif case == "huge_body":
            self._chunked(_fast_forever())
        elif case == "gzip_bomb":
            bomb = gzip_bomb()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(bomb)))
            self.end_headers()
            self._write(bomb)
        elif case == "repeated_cursor":
            n = 1 if token is None else 2
            self._json({"items": [transfer(n)], "next_page": "the-same-token"})
        elif case == "same_page":
            fresh = f"fresh-{time.monotonic_ns()}"
            self._json({"items": [transfer(1), transfer(2)], "next_page": fresh})
        elif case == "pans_everywhere":
            grouped = " ".join(PAN[i : i + 4] for i in range(0, 16, 4))
            items = [
                transfer(1, sender_card_token=PAN, merchant_id=f"m-{grouped}", note=f"to {PAN}."),
                transfer(
                    2, receiver_name=f"R {PAN}", details={"card_token": PAN, "legs": [{"ref_id": grouped}]}
                ),
            ]
            self._json({"items": items, "next_page": None})
        elif case == "pan_problem":
            title = f"Card {PAN} refused \x1b[31m\n2026-01-01 INFO forged log line " + "A" * 1_000_000
            self._json(
                {
                    "type": f"https://hostile.example/problems/{PAN}",
                    "title": title,
                    "detail": f"card {' '.join(PAN[i : i + 4] for i in range(0, 16, 4))}\r\nERROR injected",
                    "status": 422,
                },
                422,
            )
        elif case == "huge_retry_after":
            problem = {
                "type": "https://hostile.example/problems/rate-limited",
                "title": "Slow down",
                "status": 429,
            }
            self._json(problem, 429, headers={"Retry-After": "1000000000"})
        else:
            self._json({"items": [transfer(1)], "next_page": None})

    def _events(self) -> None:
        grouped = ".".join(PAN[i : i + 4] for i in range(0, 16, 4))
        event = {
            "id": "evt_h1",
            "occurred_at": _NOW,
            "type": "transfer.created",
            "data": {"receiver_name": f"R {PAN}", "card_token": PAN, "refs": [{"merchant_id": grouped}]},
        }
        self._json({"items": [event], "next_page": None})

    def _write(self, data: bytes) -> bool:
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            return False
        return True

    def _trickle(self, data: bytes, size: int) -> None:
        for start in range(0, len(data), size):
            if not self._write(data[start : start + size]):
                return
            time.sleep(self.owner.trickle_s)

    def _chunked(self, pieces: Iterator[bytes]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in pieces:
            if not self._write(b"%x\r\n%s\r\n" % (len(piece), piece)):
                return


def _slow_forever(pause_s: float) -> Iterator[bytes]:
    yield b'{"items":['
    n = 0
    while True:
        n += 1
        yield orjson.dumps(transfer(n)) + b","
        time.sleep(pause_s)


def _fast_forever() -> Iterator[bytes]:
    yield b'{"items":['
    piece = (orjson.dumps(transfer(0)) + b",") * 4096
    while True:
        yield piece


__all__ = ["CASES", "PAN", "SEED_TOKEN", "HostileServer", "gzip_bomb"]
