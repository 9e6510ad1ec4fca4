from __future__ import annotations

from collections.abc import Callable

from trastpay_sandbox.world import World

from .conftest import STREAMS


def _snapshot(world: World) -> dict[str, list[object]]:
    return {
        f"{c.id}/{stream}": list(world.truth(c.id, stream)) for c in world.customers() for stream in STREAMS
    }


def test_given_same_seed_when_built_twice_then_every_stream_is_identical(
    make_world: Callable[..., World],
) -> None:
    assert _snapshot(make_world(seed=7, customers=2)) == _snapshot(make_world(seed=7, customers=2))


def test_given_other_seed_when_built_then_customers_and_data_differ(make_world: Callable[..., World]) -> None:
    first, second = make_world(seed=7, customers=2), make_world(seed=8, customers=2)
    assert [c.phone for c in first.customers()] != [c.phone for c in second.customers()]
    assert _snapshot(first) != _snapshot(second)


def test_given_a_world_when_read_twice_without_clock_change_then_nothing_drifts(world: World) -> None:
    customer = world.customers()[1]
    first = [list(world.truth(customer.id, s)) for s in ("cards", "events", "statements")]
    second = [list(world.truth(customer.id, s)) for s in ("cards", "events", "statements")]
    assert first == second


def test_given_customers_when_listed_then_phones_are_uzbek_and_unique(world: World) -> None:
    customers = world.customers()
    assert len(customers) == 5
    assert len({c.phone for c in customers}) == 5
    for customer in customers:
        assert customer.phone.startswith("+998")
        assert len(customer.phone) == 13
        assert customer.phone[4:6] in {
            "90",
            "91",
            "20",
            "93",
            "94",
            "50",
            "95",
            "99",
            "77",
            "97",
            "88",
            "87",
            "98",
            "33",
        }
        assert world.customer_by_phone(customer.phone) == customer
        assert world.customer(customer.id) == customer
    assert world.customer_by_phone("+998000000000") is None
