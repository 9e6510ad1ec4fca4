from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from trastpay_sandbox.verify import compare_stream, deduplicate, normalise

TRUTH = [
    {"id": "t1", "status": "posted", "occurred_at": "2026-03-01T10:00:00+05:00", "amount_minor": -15200000},
    {"id": "t2", "status": "reversed", "occurred_at": "2026-03-01T11:00:00+05:00", "amount_minor": 500},
]


def test_given_same_instant_in_other_offset_when_normalised_then_equal() -> None:
    assert normalise("2026-03-01T10:00:00+05:00") == normalise(datetime(2026, 3, 1, 5, 0, tzinfo=UTC))


def test_given_binary_float_when_normalised_then_rejected() -> None:
    with pytest.raises(TypeError, match="binary float"):
        normalise(1.5)


def test_given_duplicates_with_older_status_when_compared_then_latest_row_wins() -> None:
    loaded = [
        {
            "id": "t1",
            "status": "pending",
            "occurred_at": datetime(2026, 3, 1, 5, tzinfo=UTC),
            "amount_minor": -15200000,
        },
        {
            "id": "t2",
            "status": "pending",
            "occurred_at": "2026-03-01T11:00:00+05:00",
            "amount_minor": Decimal(500),
        },
        {
            "id": "t1",
            "status": "posted",
            "occurred_at": "2026-03-01T10:00:00+05:00",
            "amount_minor": -15200000,
        },
        {"id": "t2", "status": "reversed", "occurred_at": "2026-03-01T11:00:00+05:00", "amount_minor": 500},
    ]
    result = compare_stream(
        "card_transactions", TRUTH, loaded, primary_key=["id"], cursor_field="occurred_at"
    )
    assert result.ok, result.describe()


def test_given_missing_record_and_wrong_status_when_compared_then_both_reported() -> None:
    loaded = [
        {
            "id": "t1",
            "status": "pending",
            "occurred_at": "2026-03-01T10:00:00+05:00",
            "amount_minor": -15200000,
        }
    ]
    result = compare_stream(
        "card_transactions", TRUTH, loaded, primary_key=["id"], cursor_field="occurred_at"
    )
    assert not result.ok
    assert result.missing == ["t2"]
    assert set(result.mismatched["t1"]) == {"status"}
    assert result.sums["amount_minor"] == (-15199500, -15200000)
    assert "missing 1" in result.describe()


def test_given_one_tiyin_off_when_compared_then_sum_mismatch() -> None:
    loaded = [dict(TRUTH[0]), {**TRUTH[1], "amount_minor": 501}]
    result = compare_stream("card_transactions", TRUTH, loaded, primary_key=["id"])
    assert not result.sums_equal
    assert "amount_minor" in result.mismatched["t2"]


def test_given_composite_key_when_deduplicated_then_keys_joined() -> None:
    rows = [{"loan_id": "L1", "instalment_number": 1}, {"loan_id": "L1", "instalment_number": 2}]
    assert set(deduplicate(rows, ["loan_id", "instalment_number"], None)) == {"L1:1", "L1:2"}


def test_given_naive_wall_clock_timestamp_when_compared_then_matches_local_time_of_truth() -> None:
    truth = [{"id": "t1", "occurred_at": "2026-03-01T10:00:00+05:00"}]
    loaded = [{"id": "t1", "occurred_at": datetime(2026, 3, 1, 10, 0)}]
    assert compare_stream("s", truth, loaded, primary_key=["id"]).ok
    shifted = [{"id": "t1", "occurred_at": datetime(2026, 3, 1, 5, 0)}]
    assert not compare_stream("s", truth, shifted, primary_key=["id"]).ok


def test_given_start_date_when_compared_then_older_truth_records_not_expected() -> None:
    since = datetime(2026, 3, 1, 5, 30, tzinfo=UTC)  # between t1 (05:00Z) and t2 (06:00Z)
    result = compare_stream(
        "s", TRUTH, [TRUTH[1]], primary_key=["id"], cursor_field="occurred_at", since=since
    )
    assert result.ok, result.describe()
