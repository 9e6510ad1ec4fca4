"""Pagination proves progress: a server that repeats itself ends the stream with a clear error.

Before these rules, a repeated ``next_page`` token, the same page under fresh tokens, or statement
pages counted up forever kept both connectors reading (and emitting duplicates) until killed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import responses

from trastpay.errors import PaginationError, SchemaDriftError
from trastpay.session import Partition, TrastpaySession
from trastpay.streams import get_stream

from .builders import BASE_URL, NOW, at, card_transaction, config, transfer

_WHOLE = Partition(None)


def _read(stream: str, partition: Partition = _WHOLE) -> list[Any]:
    session = TrastpaySession(config(max_retries=0), on_rotate=lambda token: None, clock=lambda: NOW)
    return list(session.read(get_stream(stream), partition, None))


def _endless(api: responses.RequestsMock, method: str, path: str, pages: Iterator[dict[str, Any]]) -> None:
    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        return 200, {"Content-Type": "application/json"}, orjson.dumps(next(pages)).decode()

    api.add_callback(method, f"{BASE_URL}{path}", callback=answer)


def test_given_a_repeated_page_token_when_reading_then_the_stream_stops_naming_stream_and_page(
    api: responses.RequestsMock,
) -> None:
    page = {"items": [transfer(1, at(-2))], "next_page": "same"}
    pages = iter([page, {"items": [transfer(2, at(-1))], "next_page": "same"}, *[page] * 5])
    _endless(api, "GET", "/transfers", pages)
    with pytest.raises(PaginationError, match=r"Stream 'transfers', page 2: .*repeats the next_page"):
        _read("transfers")
    assert len(api.calls) == 3  # refresh + two pages


def test_given_the_same_page_under_fresh_tokens_when_reading_then_the_stream_stops(
    api: responses.RequestsMock,
) -> None:
    items = [transfer(1, at(-2)), transfer(2, at(-1))]
    pages = ({"items": items, "next_page": f"fresh-{n}"} for n in itertools.count())
    _endless(api, "GET", "/transfers", pages)
    with pytest.raises(PaginationError, match=r"page 2: .*cursor does not advance"):
        _read("transfers")


def test_given_statement_pages_counted_up_forever_when_reading_then_the_stream_stops_naming_the_partition(
    api: responses.RequestsMock,
) -> None:
    items = [card_transaction(1, at(-2))]
    pages = ({"items": items, "next_page": n} for n in itertools.count(2))
    _endless(api, "POST", "/statement", pages)
    with pytest.raises(PaginationError, match=r"Stream 'card_transactions' \(partition crd_A1\), page 2"):
        _read("card_transactions", Partition("crd_A1", {"card_token": "crd_A1"}))


def test_given_empty_pages_that_name_a_next_page_when_reading_then_the_stream_stops(
    api: responses.RequestsMock,
) -> None:
    pages = ({"items": [], "next_page": n} for n in itertools.count(2))
    _endless(api, "POST", "/statement", pages)
    with pytest.raises(
        PaginationError, match="page 4: the answer is empty but names a next page, for the 4th"
    ):
        _read("card_transactions", Partition("crd_A1", {"card_token": "crd_A1"}))


def test_given_more_pages_than_declared_when_reading_then_the_stream_stops(
    api: responses.RequestsMock,
) -> None:
    pages = (
        {"items": [transfer(n, at(-1))], "next_page": f"t{n}", "total_pages": 2} for n in itertools.count(1)
    )
    _endless(api, "GET", "/transfers", pages)
    with pytest.raises(PaginationError, match="beyond the 2 pages the answer declared"):
        _read("transfers")


def test_given_pages_that_move_forward_when_reading_then_every_record_is_read(
    api: responses.RequestsMock,
) -> None:
    pages: Iterator[dict[str, Any]] = iter(
        [
            {"items": [transfer(1, at(-2)), transfer(2, at(-2))], "next_page": "a"},
            {"items": [transfer(2, at(-2)), transfer(3, at(-1))], "next_page": "b"},  # one shifted record
            {"items": [transfer(4, at(-1))], "next_page": None},
        ]
    )
    _endless(api, "GET", "/transfers", pages)
    records = [r for r in _read("transfers") if isinstance(r, dict)]
    assert [r["id"] for r in records] == [
        "trf_000001",
        "trf_000002",
        "trf_000002",
        "trf_000003",
        "trf_000004",
    ]


def test_given_a_card_number_as_a_parent_key_when_listing_partitions_then_refused(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/cards", json={"items": [{"card_token": "8600301234566312"}], "next_page": None})
    session = TrastpaySession(config(max_retries=0), on_rotate=lambda token: None, clock=lambda: NOW)
    with pytest.raises(SchemaDriftError, match="'card_token' of a record holds a card number") as caught:
        list(session.partitions(get_stream("statements")))
    assert "8600301234566312" not in str(caught.value)


@pytest.mark.parametrize("bad_id", [{"nested": 1}, [1, 2]])
def test_given_an_object_as_primary_key_when_reading_then_schema_drift_names_the_key(
    api: responses.RequestsMock, bad_id: Any
) -> None:
    api.get(f"{BASE_URL}/transfers", json={"items": [transfer(1, at(-1), id=bad_id)], "next_page": None})
    with pytest.raises(SchemaDriftError, match=r"Stream 'transfers', page 1: a primary key field \(id\)"):
        _read("transfers")
