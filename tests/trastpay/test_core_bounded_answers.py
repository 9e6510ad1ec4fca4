"""The one request path against a real server that misbehaves: every answer is bounded and typed.

No redirect is followed (no token leaves base_url's origin), a request ends at its deadline
however slowly its body trickles, a body past ``max_response_mb`` (as sent or once inflated) is
refused without being retried, an unsendable access token is refused before anything is sent,
and a huge ``Retry-After`` does not close the shared budget for the rest of the sync.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import orjson
import pytest

from trastpay.auth import TokenGrant
from trastpay.client import TrastpayClient
from trastpay.errors import (
    DeadlineExceeded,
    InvalidRequest,
    RateLimited,
    RedirectRefused,
    RequestFailed,
    ResponseTooLarge,
)
from trastpay.http import MAX_RETRY_AFTER_S, Requestor

from .builders import config, list_page, token_answer

Handler = Callable[[BaseHTTPRequestHandler], None]


class _Script(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes: ClassVar[dict[tuple[str, str], Handler]] = {}  # set per test, one server at a time
    hits: ClassVar[Counter[str]] = Counter()

    def log_message(self, *args: object) -> None:
        pass

    def _route(self, method: str) -> None:
        path = self.path.split("?", 1)[0].removeprefix("/api/v1/trastpay")
        type(self).hits[path] += 1
        if method == "POST":
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
        handler = self.routes.get((method, path))
        if handler is None:
            send(self, 404, b"{}")
        else:
            handler(self)

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hanging up mid-answer is what these tests cause


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", headers.pop("length", str(len(body))))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    with suppress(OSError):
        handler.wfile.write(body)


def tokens(answer: dict[str, Any]) -> Handler:
    return lambda handler: send(handler, 200, orjson.dumps(answer))


@contextmanager
def serving(routes: dict[tuple[str, str], Handler]) -> Iterator[str]:
    _Script.routes = routes
    _Script.hits = Counter()
    server = _QuietServer(("127.0.0.1", 0), _Script)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/trastpay"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, Counter[str]]]:
    """Another origin: it only counts what reaches it."""
    hits: Counter[str] = Counter()

    class Count(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            hits[self.path] += 1
            send(self, 200, orjson.dumps({**token_answer(9), "items": []}))

        do_POST = do_GET

    server = _QuietServer(("127.0.0.1", 0), Count)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://user:pw@127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()
    server.server_close()


def _client(base_url: str, rotations: list[TokenGrant] | None = None, **cfg: Any) -> TrastpayClient:
    settings = {"max_retries": 2, "request_deadline_seconds": 2, "timeout_seconds": 1.5, **cfg}
    sink = rotations if rotations is not None else []
    client = TrastpayClient(config(base_url=base_url, **settings), on_rotate=sink.append, jitter=lambda: 0.0)
    client.http.sleep = lambda seconds: None
    return client


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_given_a_redirect_on_the_refresh_when_logging_in_then_refused_and_the_token_never_leaves(
    status: int, elsewhere: tuple[str, Counter[str]]
) -> None:
    origin, hits = elsewhere
    target = f"{origin}/steal/auth/refresh?token=x#frag"
    rotations: list[TokenGrant] = []
    with serving({("POST", "/auth/refresh"): lambda h: send(h, status, b"", Location=target)}) as base:
        client = _client(base, rotations)
        with pytest.raises(
            RedirectRefused, match=rf"The token refresh answered {status} with a redirect"
        ) as caught:
            client.ensure_login()
    assert sum(hits.values()) == 0
    assert rotations == []
    message = str(caught.value)
    assert "/steal/auth/refresh" in message
    assert "user" not in message
    assert "pw" not in message
    assert "token=x" not in message
    assert caught.value.failure_type == "config_error"


def test_given_a_redirect_on_a_data_read_when_reading_then_refused_naming_the_target(
    elsewhere: tuple[str, Counter[str]],
) -> None:
    origin, hits = elsewhere
    routes = {
        ("POST", "/auth/refresh"): tokens(token_answer(1)),
        ("GET", "/transfers"): lambda h: send(h, 302, b"", Location=f"{origin}/transfers?page_token=x"),
    }
    with serving(routes) as base:
        with pytest.raises(
            RedirectRefused, match=r"GET /transfers answered 302 with a redirect to http://127"
        ):
            _client(base).get_json("/transfers")
        assert _Script.hits["/transfers"] == 1
    assert sum(hits.values()) == 0


def _trickle(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    for _ in range(1000):
        try:
            handler.wfile.write(b" ")
            handler.wfile.flush()
        except OSError:
            return
        time.sleep(0.2)


def _endless_chunks(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    while True:
        try:
            handler.wfile.write(b"2\r\n  \r\n")
            handler.wfile.flush()
        except OSError:
            return
        time.sleep(0.1)


@pytest.mark.parametrize("answer", [_trickle, _endless_chunks], ids=["trickle", "endless-chunked"])
def test_given_a_body_that_never_ends_when_reading_then_cut_at_the_deadline_and_not_retried(
    answer: Handler,
) -> None:
    routes = {("POST", "/auth/refresh"): tokens(token_answer(1)), ("GET", "/transfers"): answer}
    with serving(routes) as base:
        client = _client(base)
        client.ensure_login()
        started = time.monotonic()
        with pytest.raises(DeadlineExceeded, match=r"did not finish within 2 s \(request_deadline_seconds\)"):
            client.get_json("/transfers")
        elapsed = time.monotonic() - started
        assert _Script.hits["/transfers"] == 1
    assert elapsed < 4.0


def _gzip_bomb(handler: BaseHTTPRequestHandler) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    member = b"".join(compressor.compress(b"\0" * (1 << 20)) for _ in range(16)) + compressor.flush()
    bomb = member * 64  # ~1 MB that inflates to 1 GiB
    send(handler, 200, bomb, Content_Encoding="gzip")


def test_given_a_gzip_bomb_when_reading_then_refused_once_decompressed_and_not_retried() -> None:
    routes = {("POST", "/auth/refresh"): tokens(token_answer(1)), ("GET", "/transfers"): _gzip_bomb}
    with serving(routes) as base:
        with pytest.raises(ResponseTooLarge, match="more than 4 MB once decompressed") as caught:
            _client(base, max_response_mb=4).get_json("/transfers")
        assert _Script.hits["/transfers"] == 1
    assert "max_response_mb" in str(caught.value)


def test_given_a_declared_huge_body_when_reading_then_refused_before_reading_it() -> None:
    routes = {
        ("POST", "/auth/refresh"): tokens(token_answer(1)),
        ("GET", "/transfers"): lambda h: send(h, 200, b"{}", length=str(300 * 2**20)),
    }
    with serving(routes) as base, pytest.raises(ResponseTooLarge, match="answered more than 4 MB;"):
        _client(base, max_response_mb=4).get_json("/transfers")


def test_given_an_access_token_with_cr_lf_when_reading_then_typed_error_without_the_token() -> None:
    bad = "at_SECRET_1\r\nX-Injected: 1"
    routes = {("POST", "/auth/refresh"): tokens({**token_answer(1), "access_token": bad})}
    with serving(routes) as base:
        with pytest.raises(RequestFailed, match="cannot go into an HTTP header") as caught:
            _client(base).get_json("/transfers")
        assert _Script.hits["/transfers"] == 0
    assert "at_SECRET_1" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or "at_SECRET_1" not in str(caught.value.__context__)


@pytest.mark.parametrize("header", ["X-Device-Id", "X-Consent-Id"])
def test_given_a_header_value_with_a_line_break_when_building_the_requestor_then_refused_naming_it(
    header: str,
) -> None:
    with pytest.raises(RequestFailed, match=f"The {header} header cannot be sent") as caught:
        Requestor("http://127.0.0.1:9", headers={header: "dev\r\nX-Evil: 1"})
    assert "X-Evil" not in str(caught.value)


def test_given_a_huge_retry_after_when_reading_then_failed_at_once_and_the_budget_stays_open() -> None:
    routes = {
        ("POST", "/auth/refresh"): tokens(token_answer(1)),
        ("GET", "/transfers"): lambda h: send(h, 429, b"{}", Retry_After="1000000000"),
    }
    with serving(routes) as base:
        client = _client(base)
        with pytest.raises(RateLimited):
            client.get_json("/transfers")
        assert _Script.hits["/transfers"] == 1
    assert client.budget.paused_until <= time.monotonic() + MAX_RETRY_AFTER_S
    assert client.budget.paused_until <= time.monotonic()


def test_given_a_problem_with_card_numbers_escapes_and_a_huge_title_when_reading_then_message_is_clean() -> (
    None
):
    problem = {
        "type": "https://hostile.example/problems/4111111111111111",
        "title": "Card 4111 1111 1111 1111\x1b[31m\n2026-01-01 INFO forged " + "A" * 1_000_000,
        "status": 422,
    }
    routes = {
        ("POST", "/auth/refresh"): tokens(token_answer(1)),
        ("GET", "/transfers"): lambda h: send(h, 422, orjson.dumps(problem)),
    }
    with serving(routes) as base, pytest.raises(InvalidRequest) as caught:
        _client(base).get_json("/transfers")
    message = str(caught.value)
    assert "4111111111111111" not in message.replace(" ", "")
    assert "\x1b" not in message
    assert "\n" not in message
    assert len(message) < 400
    assert "(422 unrecognised-problem-type)" in message


def test_given_answers_within_bounds_when_reading_then_they_arrive_whole() -> None:
    page = orjson.dumps(list_page([{"id": f"trf_{n}", "note": "x" * 1000} for n in range(3000)]))
    routes = {
        ("POST", "/auth/refresh"): tokens(token_answer(1)),
        ("GET", "/transfers"): lambda h: send(h, 200, page),
    }
    with serving(routes) as base:
        assert len(_client(base, max_response_mb=4).get_json("/transfers")["items"]) == 3000
