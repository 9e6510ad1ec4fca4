"""A connection cut mid-body is a broken connection, for reads and for token refreshes.

``requests`` raises ``ChunkedEncodingError`` (not a ``ConnectionError``) when a body ends before
its promised length; before this was handled, a single reset crashed both connectors
(found by ``tests/reliability/test_faults.py``).
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
from trastpay_core_builders import BASE_URL, FakeClock, config, list_page, token_answer

from trastpay.client import TrastpayClient
from trastpay.errors import ReauthRequired

REFRESH_URL = f"{BASE_URL}/auth/refresh"
TRANSFERS_URL = f"{BASE_URL}/transfers"
CUT = requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead(19 bytes read)")


def _client(**cfg: Any) -> tuple[TrastpayClient, list[str]]:
    clock = FakeClock()
    rotations: list[str] = []
    client = TrastpayClient(
        config(**cfg), on_rotate=rotations.append, sleep=clock.sleep, clock=clock, jitter=lambda: 0.0
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
