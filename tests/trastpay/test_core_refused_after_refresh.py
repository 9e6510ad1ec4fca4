"""A token obtained by refreshing after a 401 and refused before it ever worked ends the sync.

With reads running in parallel, the request that meets the refusal of the fresh token may not be
the one that refreshed; it must not refresh again (found by ``tests/reliability/test_tokens.py``:
two refreshes, then a revoked login, in the "rejected again" case).
"""

from __future__ import annotations

from typing import Any

import pytest
import responses

from trastpay.client import TrastpayClient
from trastpay.errors import AuthError

from .builders import BASE_URL, FakeClock, config, list_page, problem, token_answer

REFRESH_URL = f"{BASE_URL}/auth/refresh"
TRANSFERS_URL = f"{BASE_URL}/transfers"


def _client(**cfg: Any) -> TrastpayClient:
    clock = FakeClock()
    return TrastpayClient(config(**cfg), on_rotate=lambda _: None, sleep=clock.sleep, clock=clock)


def _refreshes() -> int:
    return sum(1 for call in responses.calls if call.request.url == REFRESH_URL)


@responses.activate
def test_given_a_401_refresh_by_another_thread_when_its_token_is_refused_then_no_second_refresh() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    responses.post(REFRESH_URL, json=token_answer(2))
    responses.post(REFRESH_URL, json=token_answer(3))
    responses.get(TRANSFERS_URL, status=401, json=problem(401, "unauthorized"))
    client = _client()
    first = client.ensure_login()
    client.tokens.handle_unauthorized(first)  # what another thread did after its 401
    with pytest.raises(AuthError):
        client.get_json("/transfers")
    assert _refreshes() == 2


@responses.activate
def test_given_a_fresh_token_that_worked_when_it_is_refused_later_then_it_is_refreshed_again() -> None:
    responses.post(REFRESH_URL, json=token_answer(1))
    responses.post(REFRESH_URL, json=token_answer(2))
    responses.post(REFRESH_URL, json=token_answer(3))
    responses.get(TRANSFERS_URL, json=list_page([]))
    responses.get(TRANSFERS_URL, status=401, json=problem(401, "token-expired"))
    responses.get(TRANSFERS_URL, json=list_page([]))
    client = _client()
    client.tokens.handle_unauthorized(client.ensure_login())
    client.get_json("/transfers")
    assert client.get_json("/transfers") == list_page([])
    assert _refreshes() == 3
