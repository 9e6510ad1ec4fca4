"""Names are personal data the connectors hash or drop on request (pii_mode); they must only ever
appear in the named PII fields, never inside free text such as a statement line."""

from __future__ import annotations

from trastpay_sandbox.world import World

from .conftest import STREAMS as ALL_STREAMS

NAME_FIELDS = ("holder_name", "counterparty_name", "receiver_name")


def test_given_every_stream_when_scanned_then_names_appear_only_in_pii_fields(world: World) -> None:
    records = [
        record
        for customer in world.customers()
        for stream in ALL_STREAMS
        for record in world.truth(customer.id, stream)
    ]
    names = {value for r in records for field in NAME_FIELDS if isinstance(value := r.get(field), str)}
    names |= {customer.name for customer in world.customers()}
    assert names, "the seeded world has named counterparties"
    leaks = [
        (field, value)
        for r in records
        for field, value in r.items()
        if field not in NAME_FIELDS and isinstance(value, str) and any(name in value for name in names)
    ]
    assert not leaks[:5]
