"""Property: the per-page paths give exactly what the record-by-record paths give.

The record-by-record code is kept as the reference (``RecordProcessor.process``,
``_CardBookings.add``, ``masking._might_hold_pan_reference``, parsing each timestamp); the same
pages, hostile ones included (card numbers anywhere, grouped digit runs, escaped characters, huge
integers, floats in money fields, wrong types, missing keys, every ``pii_mode``, mixed offsets,
malformed timestamps), go through both and must give the same records, the same bookings, the
same checkpoints and audit counts, and the same error (type and message).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trastpay.client import ApiPage
from trastpay.completeness import SyncAudit, _CardBookings
from trastpay.cursors import TASHKENT, parse_instant, parse_instants
from trastpay.masking import _might_hold_pan_reference, might_hold_pan
from trastpay.records import PageColumns, RecordProcessor
from trastpay.session import Checkpoint, Partition, TrastpaySession
from trastpay.streams import get_stream

from .builders import NOW, VALID_PAN, config

CARD = "crd_A1"
GROUPED_PAN = "8600 3012 3456 6312"
BASE = datetime(2026, 2, 1, tzinfo=TASHKENT)
ZONES = [TASHKENT, UTC, timezone(timedelta(hours=-3, minutes=-30)), timezone(timedelta(hours=3))]

Outcome = tuple[Any, ...]


def outcome(run: Callable[[], Any]) -> Outcome:
    """What a call gives: its result, or the type and message of what it raised."""
    try:
        return ("ok", run())
    except Exception as error:
        return ("error", type(error).__name__, str(error))


# --- timestamps ------------------------------------------------------------------------------------
@st.composite
def instants(draw: st.DrawFn, plain: bool = False) -> str:
    """Mostly the API's layout, sometimes another offset, a fraction, 'Z', or not a timestamp at all
    (``plain``: always the API's layout, seconds apart, so that pages take the per-page paths)."""
    moment = BASE + timedelta(seconds=draw(st.integers(min_value=-40 * 86400, max_value=40 * 86400)))
    if plain:
        moment = BASE + timedelta(seconds=draw(st.integers(min_value=-3, max_value=3)))
    style = (
        "api"
        if plain
        else draw(st.sampled_from(["api"] * 6 + ["zone", "fraction", "z", "lower", "space", "bad"]))
    )
    if style == "zone":
        return moment.astimezone(draw(st.sampled_from(ZONES))).isoformat()
    if style == "fraction":
        return (moment + timedelta(microseconds=draw(st.integers(1, 999_999)))).isoformat()
    if style in ("z", "lower"):
        text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
        return text + ("Z" if style == "z" else "z")
    if style == "space":
        return moment.isoformat(sep=" ")
    if style == "bad":
        return draw(
            st.sampled_from(
                [
                    "2026-02-30T10:00:00+05:00",
                    "2026-01-01T24:00:00+05:00",
                    "2026-01-01T10:60:00+05:00",
                    "2026-01-01T10:00:61+05:00",
                    "2026-13-01T10:00:00+05:00",
                    "2026-01-01T10:00:00",
                    "2026-01-01",
                    "2026-W01-1T10:00:00+05:00",
                    "yesterday",
                    "",
                    "2026-01-01T10:00:00+25:00",
                    "2026-01-01T10:00:00+05:0x",
                    "2026-01-01T1O:00:00+05:00",
                    "２026-01-01T10:00:00+05:00",
                ]
            )
        )
    return moment.isoformat()


@settings(max_examples=400, deadline=None)
@given(st.lists(instants(), min_size=1, max_size=12))
def test_given_any_timestamps_when_parsed_as_a_column_then_exactly_what_parsing_each_gives(
    values: list[str],
) -> None:
    parsed = parse_instants(values)
    each = [outcome(partial(parse_instant, value)) for value in values]
    if parsed is None:
        return  # the caller parses each value: the reference itself
    assert each == [("ok", moment) for moment in parsed]
    assert [moment.utcoffset() for moment in parsed] == [p[1].utcoffset() for p in each]


def test_given_api_layout_when_parsed_as_a_column_then_vouched_for_and_malformed_day_or_time_refused() -> (
    None
):
    good = ["2026-01-31T23:59:59+05:00", "2026-02-28T00:00:00-03:30"]
    assert parse_instants(good) == [parse_instant(value) for value in good]
    for bad in ("2026-02-30T10:00:00+05:00", "2026-01-01T24:00:00+05:00", "2026-01-01T10:00:00.5+05:00"):
        assert parse_instants([*good, bad]) is None
    assert parse_instants(["2026-01-01T10:00:00", "2026-01-01T10:00:01"]) is None  # no offset
    assert parse_instants(["2026-01-01T10:00:00z"]) is None  # parse_instant upper-cases it first


# --- the page-level card number check --------------------------------------------------------------
@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.sampled_from([b"1", b"0", b"9", b" ", b"-", b".", b"a", b'"', b"\\", b"u", b"\\u00", b"12345"]),
        max_size=60,
    )
)
def test_given_any_body_when_checking_for_card_numbers_then_same_verdict_as_the_plain_rule(
    parts: list[bytes],
) -> None:
    raw = b"".join(parts)
    assert might_hold_pan(raw) == _might_hold_pan_reference(raw)


def test_given_account_number_after_a_space_when_checking_page_then_no_card_number() -> None:
    raw = b'{"description":"Uztelecom internet, account 716227242050","x":"1 2-3.4 5 6 7 8 9 0 1 2 3"}'
    assert might_hold_pan(raw) is True  # the second field holds 13 digits in one separated run
    assert might_hold_pan(raw[:60] + b"}") is False


# --- records ---------------------------------------------------------------------------------------
HOSTILE_VALUES: list[Any] = [
    VALID_PAN,
    GROUPED_PAN,
    f"paid with {VALID_PAN}",
    "8600-3012-3456-6312",
    "4111.1111.1111.1111",
    "860030******6311",
    2**63,
    -(2**63) - 1,
    2**62,
    1.5,
    0.0,
    True,
    None,
    "",
    "caf\u00e9 \u0660\u0661",
    {"pan": VALID_PAN, "amount_minor": 5, "inner": [{"card_pan": "4111 1111 1111 1111"}]},
    [VALID_PAN, {"fee_minor": 1.5}],
    {"holder_name": "Aziz", "phone": "+998901234567", "note": GROUPED_PAN},
    {"nested_minor": 2**64},
    12345678901234,
]


def transaction(n: int, occurred_at: str, posted_at: str | None, reversed_at: str | None) -> dict[str, Any]:
    """A card operation laid out like the sandbox's (the API's field order)."""
    return {
        "id": f"tx_{n:08d}",
        "card_token": CARD,
        "authorization_id": f"A{n:08d}",
        "occurred_at": occurred_at,
        "posted_at": posted_at,
        "reversed_at": reversed_at,
        "updated_at": reversed_at or posted_at or occurred_at,
        "status": "posted",
        "type": "purchase",
        "rail": "UZCARD",
        "amount_minor": -2900000 - n,
        "amount": "-29000.00",
        "currency": "UZS",
        "commission_minor": n % 3 * 1000 or None,
        "commission": "0.00",
        "commission_tier": None,
        "mcc": "4121",
        "merchant_name": "MyTaxi",
        "merchant_city": "Andijan",
        "counterparty_pan_masked": "860002******4088" if n % 4 == 0 else None,
        "counterparty_name": "Mohira Abdullayeva" if n % 5 == 0 else None,
        "counterparty_bank": None,
        "description": "MyTaxi, Andijan",
        "decline_reason": None,
    }


@st.composite
def pages(draw: st.DrawFn, hostile: bool = True, plain: bool = False) -> list[dict[str, Any]]:
    """One page of card operations, some of them changed in hostile ways (``plain``: none, and
    every timestamp in the API's layout, a few seconds around one instant)."""
    count = draw(st.integers(min_value=1, max_value=8))
    start = draw(st.integers(min_value=0, max_value=1000))
    hostile = hostile and not plain
    records = []
    for n in range(start, start + count):
        occurred = draw(instants(plain))
        posted = draw(st.none() | instants(plain))
        record = transaction(n, occurred, posted, draw(st.none() | instants(plain)) if posted else None)
        if hostile and draw(st.integers(0, 3)) == 0:
            for _ in range(draw(st.integers(1, 3))):
                change = draw(st.sampled_from(["set", "drop", "add", "reorder", "key"]))
                field = draw(st.sampled_from(sorted(record)))
                if change == "set":
                    record[field] = draw(st.sampled_from(HOSTILE_VALUES))
                elif change == "drop":
                    record.pop(field, None)
                elif change == "add":
                    record[
                        draw(st.sampled_from(["note", "fee_minor", "meta", "sender_pan", "owner_phone"]))
                    ] = draw(st.sampled_from(HOSTILE_VALUES))
                elif change == "reorder":
                    record = dict(reversed(list(record.items())))
                else:
                    record[draw(st.sampled_from([VALID_PAN, "card_" + GROUPED_PAN, "x"]))] = "v"
        records.append(record)
    return records


def body_of(items: list[dict[str, Any]], ascii_only: bool) -> bytes:
    """The page as an API would send it (``ascii_only``: non-ASCII escaped as ``\\uXXXX``)."""
    return json.dumps({"items": items, "next_page": None}, ensure_ascii=ascii_only).encode()


def _per_page(processor: RecordProcessor, body: bytes, key: str | None, pan_free: bool) -> list[Any]:
    return processor.process_page(orjson.loads(body)["items"], key, pan_free=pan_free)[0]


def _per_record(processor: RecordProcessor, body: bytes, key: str | None, pan_free: bool) -> list[Any]:
    return [processor.process(item, key, pan_free=pan_free) for item in orjson.loads(body)["items"]]


def _book(book: _CardBookings, records: list[dict[str, Any]], columns: PageColumns | None) -> None:
    """What ``SyncAudit.observe_card_operations`` does with one page."""
    if columns is not None and book.add_page(columns):
        return
    for record in records:
        book.add(record)


PII_MODES = [{}, {"pii_mode": "hash", "pii_hash_key": "k" * 32}, {"pii_mode": "drop"}]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(pages(), min_size=1, max_size=4),
    st.sampled_from(PII_MODES),
    st.booleans(),
    st.sampled_from(["card_transactions", "transfers", "events"]),
)
def test_given_hostile_pages_when_processed_per_page_then_same_records_and_errors_as_record_by_record(
    page_list: list[list[dict[str, Any]]], pii: dict[str, str], ascii_only: bool, stream_name: str
) -> None:
    stream = get_stream(stream_name)
    fast, reference = RecordProcessor(stream, config(**pii)), RecordProcessor(stream, config(**pii))
    key = CARD if stream.partitioned else None
    for items in page_list:
        body = body_of(items, ascii_only)
        pan_free = not might_hold_pan(body)
        assert pan_free == (not _might_hold_pan_reference(body))
        got = outcome(partial(_per_page, fast, body, key, pan_free))
        want = outcome(partial(_per_record, reference, body, key, pan_free))
        assert got == want


def test_given_plain_sandbox_like_page_when_processed_then_per_page_path_is_taken_with_columns() -> None:
    processor = RecordProcessor(get_stream("card_transactions"), config())
    items = [transaction(n, f"2026-02-01T10:00:{n:02d}+05:00", None, None) for n in range(5)]
    records, columns = processor.process_page(items, CARD, pan_free=True)
    assert columns is not None
    assert columns.values["occurred_at"][4] == "2026-02-01T10:00:04+05:00"
    assert "counterparty_pan_masked" not in columns.values  # a masked field is not offered as a column
    assert records is items


def test_given_full_pan_in_pan_field_of_plain_page_when_processed_then_masked_like_process() -> None:
    processor = RecordProcessor(get_stream("card_transactions"), config())
    items = [transaction(n, f"2026-02-01T10:00:{n:02d}+05:00", None, None) for n in range(3)]
    items[1]["counterparty_pan_masked"] = "8600 0212 3456 4088"  # 16 digits split: pan_free page
    records, columns = processor.process_page(items, CARD, pan_free=True)
    assert columns is not None
    assert [r["counterparty_pan_masked"] for r in records] == ["860002******4088", "860002******4088", None]


# --- bookings --------------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(pages(hostile=False), min_size=1, max_size=4),
    st.lists(st.sampled_from(["amount_minor", "commission_minor", "posted_at", "reversed_at"]), max_size=2),
    st.sampled_from([None, True, 7, "x", 1.5]),
    st.lists(st.tuples(instants(), instants()), min_size=1, max_size=4),
)
def test_given_card_operation_pages_when_booked_per_page_then_same_totals_and_errors_as_record_by_record(
    page_list: list[list[dict[str, Any]]], odd_fields: list[str], odd: Any, windows: list[tuple[str, str]]
) -> None:
    fast, reference = _CardBookings(), _CardBookings()
    processor = RecordProcessor(get_stream("card_transactions"), config())
    for items in page_list:
        for field in odd_fields:
            items[-1][field] = odd
        body = json.dumps({"items": items}).encode()
        checked = outcome(partial(processor.process_page, orjson.loads(body)["items"], CARD, pan_free=True))
        if checked[0] == "error":
            continue
        records, columns = checked[1]
        got = outcome(partial(_book, fast, records, columns))
        want = outcome(partial(_book, reference, records, None))
        assert got[0] == want[0]
        if got[0] == "error":
            assert got == want
            return
    for low, high in windows:
        try:
            start, end = (_midnight(parse_instant(low)), _midnight(parse_instant(high)))
        except ValueError:
            continue
        assert fast.totals(start, end) == reference.totals(start, end)
        assert fast.totals(start, end) is not None  # statement periods: whole Tashkent days


def _midnight(moment: datetime) -> datetime:
    return moment.astimezone(TASHKENT).replace(hour=0, minute=0, second=0, microsecond=0)


# --- the session ----------------------------------------------------------------------------------
class StatementPages:
    """A stand-in client answering ``POST /statement`` pages from JSON bodies."""

    server_time = None

    def __init__(self, bodies: list[bytes]) -> None:
        self.bodies = bodies

    def ensure_login(self) -> str:
        return "at_1"

    def post_page(self, path: str, body: dict[str, Any], *, scope: str | None = None) -> ApiPage:
        content = self.bodies[int(body["page"]) - 1]  # pages are 1-based
        document = orjson.loads(content)
        return ApiPage(document, not might_hold_pan(content), 0)

    def close(self) -> None:
        pass


def _reference_process_page(
    self: RecordProcessor, items: list[Any], partition_value: str | None = None, *, pan_free: bool = False
) -> tuple[list[dict[str, Any]], None]:
    return [self.process(item, partition_value, pan_free=pan_free) for item in items], None


def _read_all(
    bodies: list[bytes], cursor: str | None
) -> tuple[Outcome, list[dict[str, Any]], dict[str, int]]:
    session = TrastpaySession(
        config(start_date="2025-12-01"),
        on_rotate=lambda grant: None,
        clock=lambda: NOW,
        client=StatementPages(bodies),  # type: ignore[arg-type]
    )
    stream = get_stream("card_transactions")
    read = outcome(lambda: list(session.read_pages(stream, Partition(CARD, {"card_token": CARD}), cursor)))
    audits = [
        {k: v for k, v in record.items() if k not in ("sync_id", "sync_started_at")}
        for record in session.audit.records()
    ]
    book = session.audit._bookings.get(CARD)
    totals = book.totals(BASE - timedelta(days=60), BASE + timedelta(days=60)) if book else {}
    assert totals is not None
    return read, audits, totals


@st.composite
def statement_reads(draw: st.DrawFn) -> tuple[list[list[dict[str, Any]]], str | None]:
    plain = draw(st.booleans())
    page_list = draw(st.lists(pages(plain=plain), min_size=1, max_size=3))
    if plain:
        page_list = [sorted(items, key=lambda r: r["occurred_at"]) for items in page_list]
    return page_list, draw(st.none() | instants(plain))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statement_reads(), st.booleans())
def test_given_hostile_statement_pages_when_read_per_page_then_same_items_checkpoints_audit_and_errors(
    read: tuple[list[list[dict[str, Any]]], str | None], ascii_only: bool
) -> None:
    page_list, cursor = read
    bodies = []
    for number, items in enumerate(page_list):
        last = number == len(page_list) - 1
        document = {"items": items, "next_page": None if last else number + 2}
        bodies.append(json.dumps(document, ensure_ascii=ascii_only).encode())
    try:
        parse_instant(cursor or "2026-01-01")
    except ValueError:
        cursor = None
    fast = _read_all(bodies, cursor)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RecordProcessor, "process_page", _reference_process_page)
        reference = _read_all(bodies, cursor)
    assert fast == reference
    if fast[0][0] == "ok":
        assert any(isinstance(item, Checkpoint) for item in fast[0][1])


def test_given_sync_audit_when_card_operations_observed_per_page_then_statement_totals_match() -> None:
    audit = SyncAudit(NOW, check=True)
    processor = RecordProcessor(get_stream("card_transactions"), config())
    items = [
        transaction(n, f"2026-02-01T10:00:{n:02d}+05:00", f"2026-02-0{n + 1}T12:00:00+05:00", None)
        for n in range(4)
    ]
    records, columns = processor.process_page(items, CARD, pan_free=True)
    audit.observe_card_operations(CARD, records, columns)
    book = audit._bookings[CARD]
    reference = _CardBookings()
    for record in items:
        reference.add(record)
    assert book.days == reference.days
    assert len(book.days) == 4  # one total per Tashkent day, not one entry per operation
    start, end = parse_instant("2026-02-02T00:00:00+05:00"), parse_instant("2026-02-04T00:00:00+05:00")
    debits = sum(-(r["amount_minor"] - (r["commission_minor"] or 0)) for r in items[1:3])
    assert book.totals(start, end) == {"debit_total_minor": debits, "credit_total_minor": 0}
    assert book.totals(start, parse_instant("2026-02-04T12:00:00+05:00")) is None  # not a day bound
