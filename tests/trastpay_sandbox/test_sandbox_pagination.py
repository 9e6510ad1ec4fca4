"""Keyset pagination of the list endpoints: tokens, filters, bounds, and ties on the cursor."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from trastpay_sandbox.pagination import decode_page_token, encode_page_token
from trastpay_sandbox.problems import Problem


def _all_pages(caller: Any, path: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    pages = 0
    token: str | None = None
    while True:
        query = dict(params, **({"page_token": token} if token else {}))
        response = caller.get(path, **query)
        assert response.status_code == 200, response.text
        document = response.json()
        items.extend(document["items"])
        pages += 1
        token = document["next_page"]
        if token is None:
            return items, pages


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_given_token_when_decoded_with_same_filters_then_after_key_round_trips() -> None:
    filters = {"stream": "events", "since": None, "until": None, "parent": None}
    token = encode_page_token(("2026-01-01T00:00:00+05:00", "evt_1"), filters)

    assert decode_page_token(token, dict(filters)) == ("2026-01-01T00:00:00+05:00", "evt_1")


@pytest.mark.parametrize("token", ["", "!!!", "bm90IGpzb24", "eyJ2IjoyfQ"])
def test_given_garbage_token_when_decoded_then_400_names_page_token(token: str) -> None:
    with pytest.raises(Problem) as caught:
        decode_page_token(token, {"stream": "events"})

    assert caught.value.status == 400
    assert caught.value.field == "page_token"


def test_given_events_with_equal_timestamps_when_paging_by_one_then_none_skipped_or_repeated(
    caller: Any,
) -> None:
    everything, _ = _all_pages(caller, "/events", page_size=1000)
    keys = [(_instant(e["occurred_at"]), e["id"]) for e in everything]
    assert len({k[0] for k in keys}) < len(keys), "fixture must contain cursor ties"

    first_hundred = everything[:100]
    until = everything[100]["occurred_at"]
    paged, pages = _all_pages(caller, "/events", page_size=1, until=until)

    assert [e["id"] for e in paged] == [
        e["id"] for e in everything if _instant(e["occurred_at"]) < _instant(until)
    ]
    assert [e["id"] for e in first_hundred][: len(paged)] == [e["id"] for e in paged]
    assert pages == len(paged) or pages == len(paged) + 1
    assert keys == sorted(keys)


def test_given_since_and_until_when_listing_then_since_inclusive_until_exclusive(caller: Any) -> None:
    everything, _ = _all_pages(caller, "/events", page_size=1000)
    since, until = everything[10]["occurred_at"], everything[40]["occurred_at"]

    window, _ = _all_pages(caller, "/events", since=since, until=until, page_size=7)

    expected = [
        e["id"] for e in everything if _instant(since) <= _instant(e["occurred_at"]) < _instant(until)
    ]
    assert [e["id"] for e in window] == expected
    assert window[0]["occurred_at"] == since


def test_given_utc_and_tashkent_offsets_when_listing_then_same_instant_same_items(caller: Any) -> None:
    since_tashkent = "2026-10-01T05:00:00+05:00"

    in_tashkent = caller.get("/events", since=since_tashkent, page_size=50).json()["items"]
    in_utc = caller.get("/events", since="2026-10-01T00:00:00Z", page_size=50).json()["items"]

    assert in_tashkent
    assert in_tashkent == in_utc


def test_given_token_from_other_filters_when_listing_then_400_names_page_token(
    caller: Any, problem_of: Any
) -> None:
    token = caller.get("/events", page_size=2).json()["next_page"]

    response = caller.get("/events", page_size=2, page_token=token, since="2026-01-01T00:00:00Z")

    assert response.status_code == 400
    assert problem_of(response)["field"] == "page_token"


def test_given_token_when_page_size_changes_then_listing_continues(caller: Any) -> None:
    everything = caller.get("/events", page_size=10).json()["items"]
    token = caller.get("/events", page_size=4).json()["next_page"]

    rest = caller.get("/events", page_size=6, page_token=token).json()["items"]

    assert [e["id"] for e in rest] == [e["id"] for e in everything[4:10]]


def test_given_token_of_another_stream_when_listing_then_400(caller: Any, problem_of: Any) -> None:
    token = caller.get("/cashback/ledger", page_size=1).json()["next_page"]
    assert token is not None

    response = caller.get("/events", page_token=token)

    assert problem_of(response)["field"] == "page_token"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"since": "2026-10-01"}, "since"),
        ({"since": "2026-10-01T00:00:00"}, "since"),
        ({"until": "yesterday"}, "until"),
        ({"page_size": 0}, "page_size"),
        ({"page_size": 1001}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"limit": 5}, "limit"),
        ({"since": "2026-10-02T00:00:00Z", "until": "2026-10-01T00:00:00Z"}, "until"),
    ],
)
def test_given_bad_query_when_listing_then_400_names_the_field(
    caller: Any, problem_of: Any, params: dict[str, Any], field: str
) -> None:
    response = caller.get("/events", **params)

    assert response.status_code == 400
    assert problem_of(response)["field"] == field


def test_given_page_size_bounds_when_listing_then_1_and_1000_accepted(caller: Any) -> None:
    assert len(caller.get("/events", page_size=1).json()["items"]) == 1
    assert caller.get("/events", page_size=1000).status_code == 200


def test_given_statements_of_card_when_paging_then_matches_truth(caller: Any) -> None:
    card = caller.get("/cards").json()["items"][0]["card_token"]

    months, _ = _all_pages(caller, f"/cards/{card}/statements", page_size=2)

    truth = caller.client.get("/_sandbox/truth/statements", params={"phone": caller.phone}).text.splitlines()
    expected = [m for m in map(json.loads, truth) if m["card_token"] == card]
    assert months == expected


def test_given_unknown_parent_when_listing_children_then_404_names_it(caller: Any, problem_of: Any) -> None:
    response = caller.get("/cards/crd_doesnotexist/statements")

    assert response.status_code == 404
    assert problem_of(response)["field"] == "card_token"


def test_given_saved_invoices_when_since_given_then_400_no_cursor(caller: Any, problem_of: Any) -> None:
    response = caller.get("/myhome/invoices", since="2026-01-01T00:00:00Z")

    assert problem_of(response)["field"] == "since"


def test_given_cards_when_paging_by_one_then_every_card_once(caller: Any) -> None:
    everything = caller.get("/cards").json()["items"]

    paged, _ = _all_pages(caller, "/cards", page_size=1)

    assert paged == everything


@pytest.mark.parametrize(
    ("parent_path", "child_path"),
    [("/microloan", "/microloan/{}/schedule"), ("/instalments", "/instalments/{}/payments")],
)
def test_given_children_with_composite_or_tied_keys_when_paging_by_one_then_same_as_one_page(
    rich_caller: Any, parent_path: str, child_path: str
) -> None:
    parent = rich_caller.get(parent_path).json()["items"][0]["id"]
    whole = rich_caller.get(child_path.format(parent), page_size=1000).json()["items"]

    paged, _ = _all_pages(rich_caller, child_path.format(parent), page_size=1)

    assert len(whole) > 1
    assert paged == whole


def test_given_unknown_loan_when_reading_schedule_then_404_names_loan_id(
    rich_caller: Any, problem_of: Any
) -> None:
    response = rich_caller.get("/microloan/ml_missing/schedule")

    assert response.status_code == 404
    assert problem_of(response)["field"] == "loan_id"
