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
    assert set(answer) == {"items", "next_page", "complete_until"}  # the offer's shape plus our watermark
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


# --- the offer's microloan webhook (issue 18, items 1 and 2) -------------------------------------

OFFER_WEBHOOK_FIELDS = ("decision_code", "principal_minor", "term_months", "instalment_plan", "schedule_url")
"""What the offer's ``microloan.decision`` webhook carries besides its type."""


@pytest.fixture
def borrower(make_client: Callable[..., Any], make_caller: Callable[..., Caller]) -> Caller:
    """A customer of seed 42 with two approved microloans in 400 days of history."""
    client = make_client(settings=SandboxSettings(seed=42, customers=3, history_days=400))
    return make_caller(client=client, customer_index=1)


def _approved_decision(caller: Caller) -> dict[str, Any]:
    events = caller.client.get("/_sandbox/truth/events", params={"phone": caller.phone}).text.splitlines()
    for line in events:
        event = orjson.loads(line)
        if event["type"] == "microloan.decision" and event["data"]["decision_code"] == "APPROVED":
            return dict(event)
    raise AssertionError("the fixture customer has no approved microloan")


def test_given_an_approved_loan_when_its_decision_webhook_is_delivered_then_it_carries_the_offers_fields(
    borrower: Caller,
) -> None:
    rich_caller = borrower
    from tests.trastpay_sandbox.test_webhooks import Receiver

    event = _approved_decision(rich_caller)
    receiver = Receiver()
    try:
        hooks = rich_caller.client
        subscribed = hooks.post(
            "/_sandbox/webhooks", json={"url": receiver.url, "secret": "s3cret-0123456789"}
        )
        assert subscribed.status_code in (200, 201), subscribed.text
        replay = hooks.post(
            "/_sandbox/webhooks/replay", json={"from_event": event["id"], "to_event": event["id"]}
        )
        assert replay.status_code == 202, replay.text
        assert receiver.wait_until(lambda requests: len(requests) >= 1)
        delivered = receiver.requests[0]
    finally:
        receiver.close()

    body = orjson.loads(delivered.body)
    assert delivered.headers["X-Trastpay-Event"] == "microloan.decision"
    assert delivered.headers["X-Idempotency-Key"] == event["id"]
    assert body["type"] == "microloan.decision"
    data = body["data"]
    assert all(data[name] is not None for name in OFFER_WEBHOOK_FIELDS)
    assert data["term_months"] == 12
    assert data["currency"] == "UZS"
    plan = data["instalment_plan"]
    assert [row["instalment_number"] for row in plan] == list(range(1, 13))
    assert sum(row["principal_minor"] for row in plan) == data["principal_minor"]
    assert data["instalment_minor"] == plan[0]["total_minor"]
    schedule = rich_caller.client.get(data["schedule_url"], headers=rich_caller.headers)
    assert schedule.status_code == 200, schedule.text
    rows = sorted(schedule.json()["items"], key=lambda r: r["instalment_number"])
    assert [(r["due_date"], r["total_minor"]) for r in rows] == [
        (p["due_date"], p["total_minor"]) for p in plan
    ]


def test_given_a_borrower_when_asking_eligibility_then_a_decision_code_of_the_data_and_a_ceiling(
    borrower: Caller, problem_of: Callable[[Any], dict[str, Any]]
) -> None:
    url = API + "/microloan/eligibility"

    answer = borrower.client.post(url, json={"amount_minor": 1_000_000_00}, headers=borrower.headers)
    too_big = borrower.client.post(url, json={"amount_minor": 50_000_000_01}, headers=borrower.headers)
    long_term = borrower.client.post(
        url, json={"amount_minor": 1_000_000_00, "term_months": 24}, headers=borrower.headers
    )

    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["decision_code"] in {
        "APPROVED",
        "REJECTED_DTI",
        "REJECTED_SCORE",
        "REJECTED_DAILY_LIMIT",
        "REJECTED_INCOME_MULTIPLE",
    }
    assert document["term_months"] == 12
    assert document["eligible"] == (document["decision_code"] == "APPROVED")
    assert too_big.status_code == 400
    assert problem_of(too_big)["field"] == "amount_minor"
    assert long_term.status_code == 400
    assert problem_of(long_term)["field"] == "term_months"
