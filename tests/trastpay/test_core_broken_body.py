"""A connection cut mid-body is a broken connection, for reads and for token refreshes.

``requests`` raises ``ChunkedEncodingError`` (not a ``ConnectionError``) when a body ends before
its promised length; before this was handled, a single reset crashed both connectors
(found by ``tests/reliability/test_faults.py``).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import pytest
import requests
import responses

from trastpay.client import TrastpayClient
from trastpay.errors import ReauthRequired

from .builders import BASE_URL, FakeClock, at, config, list_page, token_answer, transfer

REFRESH_URL = f"{BASE_URL}/auth/refresh"
TRANSFERS_URL = f"{BASE_URL}/transfers"
CUT = requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(19 bytes read)")


def _client(**cfg: Any) -> tuple[TrastpayClient, list[str]]:
    clock = FakeClock()
    rotations: list[str] = []
    client = TrastpayClient(
        config(**cfg),
        on_rotate=lambda grant: rotations.append(grant.refresh_token),
        sleep=clock.sleep,
        clock=clock,
        jitter=lambda: 0.0,
    )
    return client, rotations


@responses.activate
def test_given_a_page_cut_mid_body_when_reading_then_it_is_retried_and_the_next_answer_used() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    responses.get(TRANSFERS_URL, body=CUT)
    responses.get(TRANSFERS_URL, json=list_page([]))
    client, _ = _client()
    assert client.get_json("/transfers") == list_page([])


@responses.activate
def test_given_a_refresh_answer_cut_mid_body_when_logging_in_then_the_same_token_is_sent_once_more() -> None:
    responses.post(REFRESH_URL, body=CUT)
    responses.post(REFRESH_URL, json=token_answer(1))
    client, rotations = _client()
    client.ensure_login()
    sent = [c.request.body for c in responses.calls]
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert rotations == ["rt_1"]


@responses.activate
def test_given_two_refresh_answers_cut_when_logging_in_then_log_in_again_and_no_third_send() -> None:
    responses.post(REFRESH_URL, body=CUT)
    client, _ = _client()
    with pytest.raises(ReauthRequired, match=r"[Ll]og in again"):
        client.ensure_login()
    assert len(responses.calls) == 2


class _CutOnce(BaseHTTPRequestHandler):
    """A real server: the first page answer promises more bytes than it sends, then hangs up."""

    pages_served = 0

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, body: bytes, *, promised: int | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(promised if promised is not None else len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._send(orjson.dumps(token_answer(1)))

    def do_GET(self) -> None:
        type(self).pages_served += 1
        full = orjson.dumps(list_page([transfer(1, at(-1))]))
        if type(self).pages_served == 1:
            self._send(full[: len(full) // 2], promised=len(full))
            self.close_connection = True
            return
        self._send(full)


def test_given_a_real_answer_shorter_than_its_length_when_reading_then_retried_never_half_a_page() -> None:
    _CutOnce.pages_served = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CutOnce)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base_url = f"http://127.0.0.1:{server.server_address[1]}/api/v1/trastpay"
        client, _ = _client(base_url=base_url)
        page = client.get_page("/transfers")
    finally:
        server.shutdown()
        server.server_close()
    assert page.payload == list_page([transfer(1, at(-1))])
    assert _CutOnce.pages_served == 2
