from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from trastpay.streams import STREAMS as CONNECTOR_STREAMS
from trastpay_sandbox.world import TASHKENT, World

from .conftest import statement_items

UPDATED_AT_STREAMS = tuple(s.name for s in CONNECTOR_STREAMS if s.cursor_field == "updated_at")


def _card_items(world: World) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for customer in world.customers():
        for token in customer.card_tokens:
            out.update({i["id"]: i for i in statement_items(world, customer.id, token)})
    return out


def test_given_frozen_clock_when_asked_twice_then_time_does_not_move(world: World) -> None:
    assert world.now() == world.now() == world.settings.clock_start
    assert world.now().utcoffset() == timedelta(hours=5)


def test_given_clock_when_moved_backwards_or_by_nothing_then_rejected(
    make_world: Callable[..., World],
) -> None:
    world = make_world(customers=1)
    with pytest.raises(ValueError, match="cannot go back"):
        world.set_clock(world.now() - timedelta(seconds=1))
    with pytest.raises(ValueError, match="forward"):
        world.advance(timedelta(0))
    with pytest.raises(ValueError, match="forward"):
        world.advance(timedelta(days=-1))
    with pytest.raises(ValueError, match="offset"):
        world.set_clock(datetime(2027, 1, 1))
    target = world.now() + timedelta(hours=1)
    assert world.set_clock(target) == target == world.now()
    assert world.advance(timedelta(minutes=5)) == target + timedelta(minutes=5)


def test_given_pending_holds_when_advancing_three_days_then_they_settle_and_new_activity_appears(
    make_world: Callable[..., World],
) -> None:
    world = make_world(customers=3)
    before_now = world.now()
    before = _card_items(world)
    pending = {k for k, v in before.items() if v["status"] == "pending"}
    assert pending, "a fresh world has holds still pending"
    after_now = world.advance(timedelta(days=3))
    after = _card_items(world)
    changed = {k for k in before if before[k] != after[k]}
    assert changed
    assert changed <= pending | {k for k, v in before.items() if v["status"] == "posted"}
    assert any(after[k]["status"] in ("posted", "reversed") for k in pending)
    for key in changed:
        assert after[key]["occurred_at"] == before[key]["occurred_at"]
        updated = datetime.fromisoformat(str(after[key]["updated_at"]))
        assert before_now < updated <= after_now
    new = set(after) - set(before)
    assert new
    for key in new:
        assert before_now < datetime.fromisoformat(str(after[key]["occurred_at"])) <= after_now

    events = list(world.events_between(before_now, after_now))
    assert all(before_now < datetime.fromisoformat(e["occurred_at"]) <= after_now for _, e in events)
    assert [e["id"] for _, e in events] == sorted(e["id"] for _, e in events)
    by_resource = {(e["resource_type"], e["resource_id"]): e for _, e in events}
    for key in changed | new:
        event = by_resource[("card_transactions", key)]
        assert event["occurred_at"] == after[key]["updated_at"]
        assert event["data"]["status"] == after[key]["status"]


def test_given_advance_when_reading_truth_then_updated_at_streams_change_with_matching_events(
    make_world: Callable[..., World],
) -> None:
    world = make_world(customers=5)
    start = world.now()
    snapshot = {(c.id, s): list(world.truth(c.id, s)) for c in world.customers() for s in UPDATED_AT_STREAMS}
    end = world.advance(timedelta(days=45))
    events = {
        (e["resource_type"], e["resource_id"], e["occurred_at"]) for _, e in world.events_between(start, end)
    }
    grew = 0
    for (customer_id, stream), old in snapshot.items():
        keys = world.primary_key(stream)
        old_by_key = {":".join(str(r[k]) for k in keys): r for r in old}
        for record in world.truth(customer_id, stream):
            pk = ":".join(str(record[k]) for k in keys)
            if old_by_key.get(pk) != record:
                assert start < datetime.fromisoformat(record["updated_at"]) <= end
                assert (stream, pk, record["updated_at"]) in events
                grew += 1
    assert grew > 20


def test_given_any_record_when_reading_events_then_its_last_event_is_at_its_updated_at(world: World) -> None:
    for customer in world.customers():
        last: dict[tuple[str, str], str] = {}
        for event in world.truth(customer.id, "events"):
            last[(event["resource_type"], event["resource_id"])] = event["occurred_at"]
        for stream in UPDATED_AT_STREAMS:
            keys = world.primary_key(stream)
            for record in world.truth(customer.id, stream):
                assert last[(stream, ":".join(str(record[k]) for k in keys))] == record["updated_at"]
        for stream, field in (
            ("fx_conversions", "occurred_at"),
            ("cashback_ledger", "occurred_at"),
            ("deposit_operations", "occurred_at"),
            ("microloan_repayments", "paid_at"),
        ):
            for record in world.truth(customer.id, stream):
                assert last[(stream, record["id"])] == record[field]


def test_given_event_id_range_when_replaying_then_inclusive_and_ordered(world: World) -> None:
    events = [e for _, e in world.events_between(world.now() - timedelta(days=2), world.now())]
    assert len(events) > 10
    first, last = events[2]["id"], events[-3]["id"]
    replay = [e for _, e in world.events_by_id_range(first, last)]
    assert replay == events[2:-2]
    assert list(world.events_by_id_range(last, first)) == []


def test_given_future_records_when_clock_has_not_reached_them_then_they_do_not_exist(world: World) -> None:
    now = world.now()
    for customer in world.customers():
        for stream in ("transfers", "events", "utility_payments", "cashback_ledger"):
            cursor = world.cursor_field(stream)
            assert cursor is not None
            assert all(datetime.fromisoformat(r[cursor]) <= now for r in world.truth(customer.id, stream))
    assert datetime(2026, 11, 1, 12, tzinfo=TASHKENT) == now
