"""The partner offer's own examples, sent verbatim to the sandbox (issue 18, item 1).

The offer writes the statement request with plain dates, ``include_commission`` and a 1-based
``page``, and shows an answer with ``"next_page": 2``. Only the card token is ours: the offer's
example token names no card of a synthetic world.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
import pytest

from tests.trastpay_sandbox.conftest import API, Caller
from trastpay_sandbox.world import SandboxSettings
from trastpay_sandbox.world.clock import TASHKENT

OFFER_STATEMENT_REQUEST = """{
  "card_token": "%(card_token)s",
  "from": "2026-04-01",
  "to": "2026-04-30",
  "include_commission": true,
  "page": 1
}"""


@pytest.fixture
def busy_caller(make_client: Callable[..., Any], make_caller: Callable[..., Caller]) -> Caller:
    """One customer, one card, busy enough that April 2026 has several pages of operations."""
    settings = SandboxSettings(seed=7, customers=1, history_days=250, transactions=4000, cards_per_customer=1)
    return make_caller(client=make_client(settings=settings))


def _post_raw(caller: Caller, body: str) -> Any:
    headers = {**caller.headers, "Content-Type": "application/json"}
    return caller.client.post(API + "/statement", content=body.encode(), headers=headers)


def _card_token(caller: Caller) -> str:
    cards = [c for c in caller.get("/cards").json()["items"] if not c["is_virtual"]]
    token: str = cards[0]["card_token"]
    return token


def test_given_offer_statement_request_when_sent_verbatim_then_first_april_page_and_next_page_2(
    busy_caller: Caller,
) -> None:
    card = _card_token(busy_caller)

    response = _post_raw(busy_caller, OFFER_STATEMENT_REQUEST % {"card_token": card})

    assert response.status_code == 200, response.text
    answer = orjson.loads(response.content)
    assert set(answer) == {"items", "next_page"}
    assert answer["next_page"] == 2
    assert len(answer["items"]) == 100
    first = datetime.fromisoformat(answer["items"][0]["occurred_at"])
    assert first.astimezone(TASHKENT).date().isoformat() == "2026-04-01"
    assert all(item["commission_minor"] is not None for item in answer["items"])


def test_given_offer_pages_when_followed_then_whole_of_april_in_tashkent_once(busy_caller: Caller) -> None:
    card = _card_token(busy_caller)
    body = orjson.loads(OFFER_STATEMENT_REQUEST % {"card_token": card})
    ids: list[str] = []
    days: set[str] = set()
    page: int | None = 1
    while page is not None:
        answer = busy_caller.statement(**{**body, "page": page}).json()
        ids.extend(item["id"] for item in answer["items"])
        days.update(
            datetime.fromisoformat(item["occurred_at"]).astimezone(TASHKENT).date().isoformat()
            for item in answer["items"]
        )
        assert answer["next_page"] is None or answer["next_page"] == page + 1
        page = answer["next_page"]
    window = {"from": "2026-04-01T00:00:00+05:00", "to": "2026-05-01T00:00:00+05:00"}
    exact = busy_caller.statement(card_token=card, **window, page_size=1000).json()

    assert ids == [item["id"] for item in exact["items"]]
    assert len(ids) == len(set(ids))
    assert min(days) == "2026-04-01"
    assert max(days) == "2026-04-30"


def test_given_page_zero_when_requested_then_same_as_page_one_for_old_clients(busy_caller: Caller) -> None:
    card = _card_token(busy_caller)
    body = {"card_token": card, "from": "2026-04-01", "to": "2026-04-30", "page_size": 10}

    zero, one = busy_caller.statement(**body, page=0).json(), busy_caller.statement(**body, page=1).json()

    assert zero == one
    assert one["next_page"] == 2


@pytest.mark.parametrize("bad", ["2026-04-31", "01.04.2026", "2026-04-01T00:00:00", "20260401"])
def test_given_bad_plain_date_when_statement_requested_then_400_names_from(
    busy_caller: Caller, bad: str, problem_of: Callable[[Any], dict[str, Any]]
) -> None:
    card = _card_token(busy_caller)

    response = busy_caller.statement(card_token=card, **{"from": bad, "to": "2026-04-30"})

    assert response.status_code == 400
    assert problem_of(response)["field"] == "from"
