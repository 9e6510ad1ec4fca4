from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import orjson
import pytest

from trastpay.streams import STREAMS as CONNECTOR_STREAMS
from trastpay_sandbox.world import SandboxSettings, World
from trastpay_sandbox.world.tx_views import serialize_day, tx_record

from .conftest import EARLIEST, LATEST, all_pages, statement_items

LIST_STREAMS = tuple(s.name for s in CONNECTOR_STREAMS if s.request_style == "list" and not s.partitioned)
CHILDREN = {s.name: s.parent for s in CONNECTOR_STREAMS if s.request_style == "list" and s.parent is not None}


def _key(world: World, stream: str, record: dict[str, object]) -> str:
    return ":".join(str(record[k]) for k in world.primary_key(stream))


def _sort_key(world: World, stream: str, record: dict[str, object]) -> tuple[datetime, str]:
    cursor = world.cursor_field(stream)
    assert cursor is not None
    return datetime.fromisoformat(str(record[cursor])), _key(world, stream, record)


@pytest.mark.parametrize("stream", LIST_STREAMS)
@pytest.mark.parametrize("limit", [1, 7, 1000])
def test_given_list_stream_when_paging_with_after_key_then_exactly_the_truth_in_order(
    world: World, stream: str, limit: int
) -> None:
    customer = world.customers()[2]
    if limit == 1 and stream in ("events", "cashback_ledger"):
        limit = 13
    paged = all_pages(world, customer.id, stream, limit)
    truth = list(world.truth(customer.id, stream))
    assert sorted(_key(world, stream, r) for r in paged) == sorted(_key(world, stream, r) for r in truth)
    assert paged == sorted(truth, key=lambda r: _sort_key(world, stream, r))
    assert len({_key(world, stream, r) for r in paged}) == len(paged)


@pytest.mark.parametrize("stream", sorted(CHILDREN))
def test_given_child_stream_when_paging_every_parent_then_covers_truth(world: World, stream: str) -> None:
    parent_stream = CHILDREN[stream]
    for customer in world.customers():
        parents = [_key(world, parent_stream, p) for p in world.truth(customer.id, parent_stream)]
        paged = [r for p in parents for r in all_pages(world, customer.id, stream, 5, parent_id=p)]
        truth = list(world.truth(customer.id, stream))
        assert Counter(_key(world, stream, r) for r in paged) == Counter(
            _key(world, stream, r) for r in truth
        )


def test_given_many_equal_cursor_values_when_page_boundary_splits_them_then_nothing_lost_or_duplicated(
    world: World,
) -> None:
    for customer in world.customers():
        for loan in world.truth(customer.id, "microloans"):
            if loan["disbursed_at"] is None:
                continue
            rows = all_pages(world, customer.id, "microloan_schedules", 1000, parent_id=loan["id"])
            ties = Counter(r["updated_at"] for r in rows).most_common(1)[0][1]
            assert ties >= 2 or loan["status"] == "closed"
            for limit in (1, 2, 3, 5):
                paged = all_pages(world, customer.id, "microloan_schedules", limit, parent_id=loan["id"])
                assert paged == rows
            return
    pytest.fail("no disbursed loan in the default world")


def test_given_since_and_until_when_listing_then_since_inclusive_until_exclusive(world: World) -> None:
    customer = world.customers()[0]
    events = list(world.truth(customer.id, "events"))
    pivot = events[len(events) // 2]
    at = datetime.fromisoformat(pivot["occurred_at"])
    same_second = [e for e in events if e["occurred_at"] == pivot["occurred_at"]]
    from_pivot, _ = world.list_page(customer.id, "events", since=at, limit=len(same_second))
    assert from_pivot == same_second
    before, _ = world.list_page(customer.id, "events", until=at, limit=100_000)
    assert before == [e for e in events if datetime.fromisoformat(e["occurred_at"]) < at]
    window, more = world.list_page(
        customer.id, "events", since=at, until=at + timedelta(seconds=1), limit=1000
    )
    assert window == same_second
    assert more is False
    transfers = list(world.truth(customer.id, "transfers"))
    edge = datetime.fromisoformat(transfers[5]["updated_at"])
    got, _ = world.list_page(
        customer.id, "transfers", since=edge, until=edge + timedelta(days=30), limit=1000
    )
    assert got[0] == transfers[5]
    assert all(edge <= datetime.fromisoformat(t["updated_at"]) < edge + timedelta(days=30) for t in got)


def test_given_after_key_when_listing_then_only_items_strictly_after_it(world: World) -> None:
    customer = world.customers()[0]
    transfers = list(world.truth(customer.id, "transfers"))
    anchor = transfers[10]
    got, _ = world.list_page(customer.id, "transfers", after=(anchor["updated_at"], anchor["id"]), limit=3)
    assert got == transfers[11:14]
    utc = datetime.fromisoformat(anchor["updated_at"]).astimezone(tz=None).isoformat()
    got_utc, _ = world.list_page(customer.id, "transfers", after=(utc, anchor["id"]), limit=3)
    assert got_utc == got


def test_given_bad_list_requests_when_called_then_clear_errors(world: World) -> None:
    customer, other = world.customers()[0], world.customers()[1]
    with pytest.raises(KeyError, match="not a list stream"):
        world.list_page(customer.id, "card_transactions")
    with pytest.raises(ValueError, match="needs parent_id"):
        world.list_page(customer.id, "statements")
    with pytest.raises(KeyError):
        world.list_page(customer.id, "statements", parent_id=other.card_tokens[0])
    with pytest.raises(KeyError, match="unknown customer"):
        world.list_page("cus_nobody", "transfers")
    with pytest.raises(KeyError):
        world.list_page(customer.id, "deposit_operations", parent_id="dep_unknown")
    with pytest.raises(ValueError, match="limit"):
        world.list_page(customer.id, "transfers", limit=0)
    with pytest.raises(ValueError, match="RFC 3339"):
        world.list_page(customer.id, "transfers", after=("yesterday", "x"))
    assert world.cursor_field("statements") == "period_start"
    assert world.primary_key("microloan_schedules") == ("loan_id", "instalment_number")


def test_given_saved_invoices_when_listed_then_ordered_by_id_with_provider_accounts(world: World) -> None:
    customer = world.customers()[0]
    invoices = world.saved_invoices(customer.id)
    assert invoices
    assert [i["id"] for i in invoices] == sorted(i["id"] for i in invoices)
    for invoice in invoices:
        assert 10 <= len(invoice["account_id"]) <= 12
        assert invoice["account_id"].isdigit()
    page, more = world.list_page(customer.id, "saved_invoices", limit=1)
    assert page == invoices[:1]
    assert more == (len(invoices) > 1)
    rest, _ = world.list_page(customer.id, "saved_invoices", after=("", invoices[0]["id"]), limit=100)
    assert rest == invoices[1:]


@pytest.mark.parametrize("page_size", [1, 37, 1000])
def test_given_card_when_paging_statement_then_pages_cover_the_truth_exactly(
    world: World, page_size: int
) -> None:
    customer = world.customers()[1]
    truth = [t for t in world.truth(customer.id, "card_transactions")]
    paged = [
        i for token in customer.card_tokens for i in statement_items(world, customer.id, token, page_size)
    ]
    assert sorted(paged, key=lambda i: i["id"]) == sorted(truth, key=lambda i: i["id"])
    for token in customer.card_tokens:
        items = [i for i in paged if i["card_token"] == token]
        assert [(i["occurred_at"], i["id"]) for i in items] == sorted(
            (i["occurred_at"], i["id"]) for i in items
        )


def test_given_window_when_paging_statement_then_from_inclusive_to_exclusive_and_last_page_null(
    world: World,
) -> None:
    customer = world.customers()[0]
    token = customer.card_tokens[0]
    items = statement_items(world, customer.id, token)
    start = datetime.fromisoformat(items[40]["occurred_at"])
    end = datetime.fromisoformat(items[90]["occurred_at"])
    expected = [i for i in items if start <= datetime.fromisoformat(i["occurred_at"]) < end]
    got: list[object] = []
    page: int | None = 0
    while page is not None:
        body, page = world.statement_page(customer.id, token, start, end, page, 10)
        got.extend(orjson.loads(body))
    assert got == expected
    body, next_page = world.statement_page(customer.id, token, start, end, 1000, 10)
    assert body == b"[]"
    assert next_page is None


def test_given_options_when_paging_statement_then_commission_hidden_and_rail_filtered(world: World) -> None:
    customer = world.customers()[0]
    token = customer.card_tokens[0]
    rail = world.cards(customer.id)[0]["rail"]
    hidden = statement_items(world, customer.id, token, include_commission=False)
    assert hidden
    assert all(i["commission_minor"] is None and i["commission"] is None for i in hidden)
    other_rail = "HUMO" if rail != "HUMO" else "UZCARD"
    assert world.statement_page(customer.id, token, EARLIEST, LATEST, 0, 10, rail=other_rail) == (b"[]", None)
    same, _ = world.statement_page(customer.id, token, EARLIEST, LATEST, 0, 10, rail=rail)
    assert len(orjson.loads(same)) == 10


def test_given_bad_statement_requests_when_called_then_clear_errors(world: World) -> None:
    customer, other = world.customers()[0], world.customers()[1]
    with pytest.raises(KeyError, match="not a card of customer"):
        world.statement_page(customer.id, other.card_tokens[0], EARLIEST, LATEST, 0, 10)
    with pytest.raises(KeyError):
        world.statement_page(customer.id, "crd_unknown", EARLIEST, LATEST, 0, 10)
    with pytest.raises(ValueError, match="page_size"):
        world.statement_page(customer.id, customer.card_tokens[0], EARLIEST, LATEST, 0, 0)
    with pytest.raises(ValueError, match="page must"):
        world.statement_page(customer.id, customer.card_tokens[0], EARLIEST, LATEST, -1, 10)


def test_given_settling_days_when_serialized_fast_then_bytes_equal_the_record_builder(world: World) -> None:
    store = world._store
    now = int(world.now().timestamp())
    for token, plan in list(store.plans.items())[:4]:
        for day in range(plan.first_day, plan.first_day + 60):
            txs = store.day(token, day)
            for at in (now, *(t.occ + offset for t in txs[:1] for offset in (0, 3_600, 86_400, 4 * 86_400))):
                for include_commission in (True, False):
                    blob, offsets = serialize_day(txs, plan.spec, at, include_commission)
                    records = [tx_record(t, plan.spec, at, include_commission) for t in txs]
                    assert [
                        orjson.loads(blob[offsets[i] : offsets[i + 1] - 1]) for i in range(len(txs))
                    ] == records


def test_given_tiny_cache_when_paging_twice_then_evicted_and_compressed_days_serve_identical_bytes() -> None:
    small = World(SandboxSettings(customers=1, transactions=60_000, cache_bytes=3 * 1024 * 1024))
    customer = small.customers()[0]
    token = customer.card_tokens[0]

    def pages() -> list[bytes]:
        out, page = [], 0
        next_page: int | None = 0
        while next_page is not None:
            body, next_page = small.statement_page(customer.id, token, EARLIEST, LATEST, page, 500)
            out.append(body)
            page += 1
        return out

    first = pages()
    store = small._store
    assert len(store._zipped) > 0
    assert store._blobs.size <= store._blobs.budget
    assert store._zipped.size <= store._zipped.budget
    assert pages() == first
