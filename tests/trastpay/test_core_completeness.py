"""Watermark, late records, end_date, stream start dates, backfill and the sync_audit records."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
import responses

from trastpay import session as session_module
from trastpay.completeness import CompletenessError, PartitionAudit
from trastpay.errors import ConfigError, PayloadError
from trastpay.session import Checkpoint, Partition
from trastpay.streams import get_stream

from .builders import (
    BASE_URL,
    REFRESH_URL,
    at,
    card,
    card_transaction,
    config,
    list_page,
    quiet_session,
    read_all,
    transfer,
)


def _page(items: list[dict[str, Any]], watermark: str | None, next_page: Any = None) -> dict[str, Any]:
    page = list_page(items, next_page)
    if watermark is not None:
        page["complete_until"] = watermark
    return page


def _queries(api: responses.RequestsMock) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(str(c.request.url)).query) for c in api.calls if c.request.url != REFRESH_URL]


def test_given_records_newer_than_the_watermark_when_checkpointing_then_state_stops_at_the_watermark(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/transfers", json=_page([transfer(1, at(-3)), transfer(2, at(-1))], at(-2)))
    items = read_all(quiet_session(), "transfers", Partition(None, {}), None)
    assert items[-1] == Checkpoint(at(-2))
    assert [i["id"] for i in items if isinstance(i, dict)] == ["trf_000001", "trf_000002"]


def test_given_a_watermark_behind_the_saved_cursor_when_checkpointing_then_never_backwards(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/transfers", json=_page([transfer(1, at(-0.5))], at(-4)))
    items = read_all(quiet_session(), "transfers", Partition(None, {}), at(-3))
    assert items[-1] == Checkpoint(at(-3))


def test_given_no_watermark_when_checkpointing_then_greatest_cursor_as_before(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/transfers", json=_page([transfer(1, at(-1))], None))
    assert read_all(quiet_session(), "transfers", Partition(None, {}), None)[-1] == Checkpoint(at(-1))


def test_given_a_malformed_watermark_when_reading_then_payload_error(api: responses.RequestsMock) -> None:
    api.get(f"{BASE_URL}/transfers", json=_page([transfer(1, at(-1))], "yesterday"))
    with pytest.raises(PayloadError, match="complete_until"):
        read_all(quiet_session(), "transfers", Partition(None, {}), None)


def test_given_events_when_resuming_then_the_default_one_day_window_is_reread(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/events", json=_page([], at(0)))
    read_all(quiet_session(), "events", Partition(None, {}), "2026-03-05T10:00:00+05:00")
    assert _queries(api)[0]["since"] == ["2026-03-04T10:00:00+05:00"]


def test_given_end_date_and_stream_start_date_when_reading_then_the_window_is_bounded(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/transfers", json=_page([], at(0)))
    session = quiet_session(end_date="2026-03-01", stream_start_dates={"transfers": "2026-02-01"})
    assert read_all(session, "transfers", Partition(None, {}), None) == [Checkpoint(None)]
    query = _queries(api)[0]
    assert query["since"] == ["2026-02-01T00:00:00+05:00"]
    assert query["until"] == ["2026-03-01T00:00:00+05:00"]


def test_given_a_re_read_record_that_changed_after_the_saved_position_when_reading_then_it_is_counted_late(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    saved = at(-2)
    settled = card_transaction(1, at(-4), updated_at=at(-1), posted_at=at(-1))  # a hold that posted since
    unchanged = card_transaction(2, at(-3), updated_at=at(-3))
    api.post(f"{BASE_URL}/statement", json=_page([settled, unchanged], at(0)))
    session = quiet_session()
    read_all(session, "card_transactions", Partition("crd_A1", {"card_token": "crd_A1"}), saved)
    (audit,) = session.audit.records()
    assert (audit["late_records"], audit["late_oldest_cursor"]) == (1, at(-4))
    assert (audit["records_emitted"], audit["pages"], audit["cursor_in"]) == (2, 1, saved)
    assert audit["window_start"] == "2026-03-01T12:00:00+05:00"  # saved - settlement_lag_days (7)
    assert "1 record(s) found late" in caplog.text


def _statement(month: str, start: str, end: str, debit: int, credit: int) -> dict[str, Any]:
    return {
        "card_token": "crd_A1",
        "month": month,
        "period_start": start,
        "period_end": end,
        "currency": "UZS",
        "debit_total_minor": debit,
        "credit_total_minor": credit,
        "is_final": True,
        "updated_at": end,
    }


@pytest.mark.parametrize(("debit", "check"), [(5_000_109, True), (5_000_101, False), (5_000_101, True)])
def test_given_a_final_statement_when_its_totals_are_compared_then_match_passes_and_mismatch_fails_unless_off(
    api: responses.RequestsMock, debit: int, check: bool
) -> None:
    feb = ("2026-02-01T00:00:00+05:00", "2026-03-01T00:00:00+05:00")
    operations = [
        card_transaction(
            1, "2026-01-30T10:00:00+05:00", posted_at="2026-02-01T09:00:00+05:00", commission_minor=100
        ),
        card_transaction(
            2, "2026-02-10T10:00:00+05:00", posted_at="2026-02-10T10:00:00+05:00", amount_minor=700
        ),
        card_transaction(
            3,
            "2026-02-12T10:00:00+05:00",
            posted_at="2026-02-12T10:00:00+05:00",
            reversed_at="2026-03-02T10:00:00+05:00",
            amount_minor=-9,
        ),
    ]
    api.post(f"{BASE_URL}/statement", json=_page(operations, at(0)))
    api.get(
        f"{BASE_URL}/cards/crd_A1/statements", json=_page([_statement("2026-02", *feb, debit, 700)], at(0))
    )
    session = quiet_session(completeness_check=check)
    partition = Partition("crd_A1", {"card_token": "crd_A1"})
    read_all(session, "card_transactions", partition, None)
    expected_ok = debit == 5_000_109  # 5,000,000 + 100 commission posted 1 Feb, + 9 (reversed in March)
    if not expected_ok and check:
        with pytest.raises(
            CompletenessError, match=r"card_transactions', partition crd_A1, window \[2026-02-01"
        ):
            read_all(session, "statements", partition, None)
        return
    read_all(session, "statements", partition, None)
    audit = next(r for r in session.audit.records() if r["stream"] == "statements")
    assert audit["check"] == ("ok" if expected_ok else "mismatch")
    assert audit["observed_debit_total_minor"] == 5_000_109
    assert audit["expected_debit_total_minor"] == debit


def test_given_a_backfill_when_reading_then_window_and_cards_are_the_backfills_and_the_cursor_stays(
    api: responses.RequestsMock,
) -> None:
    api.get(f"{BASE_URL}/cards", json=list_page([card("crd_A1"), card("crd_B2")]))
    api.post(f"{BASE_URL}/statement", json=_page([card_transaction(1, "2026-02-03T10:00:00+05:00")], at(0)))
    backfill = {
        "start_date": "2026-02-01",
        "end_date": "2026-03-01",
        "streams": ["card_transactions"],
        "card_tokens": ["crd_B2"],
    }
    session = quiet_session(backfill=backfill)
    assert session.passes_state_through
    partitions = list(session.partitions(get_stream("card_transactions")))
    assert [p.key for p in partitions] == ["crd_B2"]
    assert list(session.partitions(get_stream("transfers"))) == []
    saved = "2026-03-09T00:00:00+05:00"
    items = read_all(session, "card_transactions", partitions[0], saved)
    assert [i for i in items if isinstance(i, Checkpoint)] == [Checkpoint(saved)]
    body = orjson.loads(
        next(c for c in api.calls if str(c.request.url).endswith("/statement")).request.body or b""
    )
    assert (body["card_token"], body["from"], body["to"]) == (
        "crd_B2",
        "2026-02-01T00:00:00+05:00",
        "2026-03-01T00:00:00+05:00",
    )
    assert read_all(session, "transfers", Partition(None, {}), at(-1)) == [Checkpoint(at(-1))]
    (audit,) = session.audit.records()
    assert (audit["mode"], audit["cursor_out"]) == ("backfill", saved)


@pytest.mark.parametrize(
    ("backfill", "field"),
    [
        ({"start_date": "2026-02-01", "end_date": "2026-01-01", "streams": ["events"]}, "backfill.end_date"),
        ({"start_date": "2026-02-01", "end_date": "2026-03-01", "streams": []}, "backfill"),
        ({"start_date": "2026-02-01", "end_date": "2026-03-01", "streams": ["cards"]}, "backfill"),
    ],
)
def test_given_a_bad_backfill_when_parsing_then_config_error_names_it(
    backfill: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        config(backfill=backfill)
    assert raised.value.field == field


def test_given_many_audit_records_when_read_then_a_forced_checkpoint_every_state_every_records(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(session_module, "STATE_EVERY_RECORDS", 2)
    session = quiet_session()
    for key in ("crd_A1", "crd_B2", "crd_C3"):
        session.audit.finish(PartitionAudit("card_transactions", key, "incremental"))
    items = read_all(session, "sync_audit", Partition(None, {}), None)
    assert [i if isinstance(i, Checkpoint) else i["partition"] for i in items] == [
        "crd_A1",
        "crd_B2",
        Checkpoint(None, forced=True),
        "crd_C3",
        Checkpoint(None),
    ]
