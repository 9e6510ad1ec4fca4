from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import orjson
import pytest
from jsonschema import Draft7Validator, FormatChecker  # type: ignore[import-untyped]

from trastpay.schemas import load_schema
from trastpay_sandbox.world import World
from trastpay_sandbox.world.cards import luhn_valid

from .conftest import STREAMS, statement_items

_DIGIT_RUN = re.compile(r"(?<!\d)\d{13,19}(?!\d)")
_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+05:00$")


@pytest.mark.parametrize("stream", STREAMS)
def test_given_world_when_reading_stream_then_every_record_matches_its_schema_exactly(
    world: World, stream: str
) -> None:
    schema = load_schema(stream)
    validator = Draft7Validator(schema, format_checker=FormatChecker())
    properties = set(schema["properties"])
    seen = 0
    for customer in world.customers():
        for record in world.truth(customer.id, stream):
            errors = [e.message for e in validator.iter_errors(record)]
            assert not errors, (stream, record, errors)
            assert set(record) == properties, (stream, set(record) ^ properties)
            for key, value in record.items():
                if schema["properties"][key].get("format") == "date-time" and value is not None:
                    assert _TS.match(value), (stream, key, value)
            seen += 1
    assert seen > 0, f"the default world has no {stream} record"


def test_given_events_when_listed_then_ids_are_unique_and_sorted_in_event_order(world: World) -> None:
    for customer in world.customers():
        events = list(world.truth(customer.id, "events"))
        ids = [e["id"] for e in events]
        assert len(set(ids)) == len(ids)
        assert ids == sorted(ids)
        assert [(e["occurred_at"], e["id"]) for e in events] == sorted(
            (e["occurred_at"], e["id"]) for e in events
        )


def _all_output(world: World) -> list[Any]:
    out: list[Any] = [world.fx_rates(date(2026, 10, 15))]
    for customer in world.customers():
        out.append(world.customers())
        out.append(world.saved_invoices(customer.id))
        for stream in STREAMS:
            out.append(list(world.truth(customer.id, stream)))
        for token in customer.card_tokens:
            export = world.statement_export(customer.id, token, date(2026, 9, 1), date(2026, 10, 31))
            out.append([export.card, export.entries])
    return out


def test_given_every_output_when_scanned_then_no_unmasked_luhn_valid_card_number_appears(
    world: World,
) -> None:
    text = orjson.dumps(_all_output(world), default=str).decode()
    offenders = [m for m in _DIGIT_RUN.findall(text) if luhn_valid(m)]
    assert offenders == []
    masked = re.findall(r"\b\d{6}\*{6}\d{4}\b", text)
    assert masked, "masked PANs are expected in the output"


def test_given_cards_when_listed_then_bins_are_real_and_mix_is_soum_plus_optional_usd(world: World) -> None:
    trastbank_bins = {"860030", "986018", "409784", "532154"}
    for customer in world.customers():
        cards = world.cards(customer.id)
        physical = [c for c in cards if not c["is_virtual"]]
        soum = [c for c in physical if c["currency"] == "UZS"]
        assert 1 <= len(soum) <= 3
        assert all(c["rail"] in ("UZCARD", "HUMO") for c in soum)
        assert len([c for c in physical if c["currency"] == "USD"]) <= 1
        assert soum[0]["is_trastbank"]
        assert soum[0]["bank_mfo"] == "00491"
        for card in cards:
            assert card["pan_masked"].startswith(card["bin"])
            if card["is_trastbank"]:
                assert card["bin"] in trastbank_bins
            if card["rail"] == "UZCARD":
                assert card["bin"].startswith("8600")
            if card["rail"] == "HUMO":
                assert card["bin"].startswith("9860")


def test_given_a_day_when_reading_fx_rates_then_feed_looks_like_the_central_bank(world: World) -> None:
    rates = {r["Ccy"]: r for r in world.fx_rates(date(2026, 10, 15))}
    assert {"USD", "EUR", "RUB"} <= set(rates)
    assert 12_000 <= float(rates["USD"]["Rate"]) <= 12_900
    assert 14_000 <= float(rates["EUR"]["Rate"]) <= 14_800
    assert 148 <= float(rates["RUB"]["Rate"]) <= 162
    assert rates["USD"]["Date"] == "15.10.2026"
    assert rates["USD"]["Code"] == "840"
    saturday = {r["Ccy"]: r for r in world.fx_rates(date(2026, 10, 17))}
    friday = {r["Ccy"]: r for r in world.fx_rates(date(2026, 10, 16))}
    assert saturday["USD"] == friday["USD"]
    for day in range(1, 400, 7):
        usd = world.fx_rates(date.fromordinal(date(2025, 9, 1).toordinal() + day))[0]
        assert 12_000 <= float(usd["Rate"]) <= 12_900


def test_given_card_transactions_when_read_then_timestamps_are_tashkent_daytime_and_states_consistent(
    world: World,
) -> None:
    for customer in world.customers():
        for token in customer.card_tokens:
            for item in statement_items(world, customer.id, token):
                occurred = datetime.fromisoformat(item["occurred_at"])
                if (
                    item["type"] in ("purchase", "mobile", "cash_withdrawal", "p2p_in")
                    and not item["id"].count("_") > 2
                ):
                    assert 8 <= occurred.hour <= 22
                status = item["status"]
                assert (item["posted_at"] is not None) == (
                    status == "posted" or (status == "reversed" and item["posted_at"] is not None)
                )
                if status == "declined":
                    assert item["decline_reason"]
                    assert item["posted_at"] is None
                for later in (item["posted_at"], item["reversed_at"]):
                    if later is not None:
                        delta = datetime.fromisoformat(later) - occurred
                        assert 0 <= delta.total_seconds() <= 5 * 86_400
                assert item["updated_at"] == max(
                    v for v in (item["occurred_at"], item["posted_at"], item["reversed_at"]) if v is not None
                )
