"""Cursor and state rules: instants not strings, lookback/settlement windows, never backwards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from trastpay.cursors import CursorTracker, format_instant, parse_instant, read_start
from trastpay.errors import StateError
from trastpay.state import StreamState
from trastpay.streams import get_stream

from .builders import config

TRANSFERS = get_stream("transfers")
CARD_TX = get_stream("card_transactions")


def test_given_mixed_offsets_when_comparing_then_instants_decide_not_strings() -> None:
    tracker = CursorTracker("2026-03-04T10:00:00+05:00")
    tracker.observe("2026-03-04T06:00:00Z")  # 11:00 Tashkent: later, though it sorts earlier as text
    assert tracker.value == "2026-03-04T06:00:00Z"
    tracker.observe("2026-03-04T10:30:00+05:00")  # earlier instant, later string
    assert tracker.value == "2026-03-04T06:00:00Z"


def test_given_mixed_separators_when_comparing_then_instants_decide() -> None:
    tracker = CursorTracker("2026-03-04T10:00:00+05:00")
    tracker.observe("2026-03-04 11:00:00+05:00")
    assert tracker.value == "2026-03-04 11:00:00+05:00"
    tracker.observe("2026-03-04t10:30:00+05:00")
    assert tracker.value == "2026-03-04 11:00:00+05:00"


def test_given_same_format_when_observing_then_greatest_kept_as_the_records_own_string() -> None:
    tracker = CursorTracker(None)
    for value in ["2026-03-04T10:00:00+05:00", "2026-03-04T12:00:00+05:00", "2026-03-04T11:00:00+05:00"]:
        tracker.observe(value)
    assert tracker.checkpoint() == "2026-03-04T12:00:00+05:00"


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        (["2026-03-04T10:00:00+05:00", "2026-03-04T12:00:00+05:00", "2026-03-04T11:00:00+05:00"], 1),
        (["2026-03-04T10:00:00+05:00", "2026-03-04T06:30:00Z", "2026-03-04T11:00:00+05:00"], 1),
        (["2026-03-04 12:00:00+05:00", "2026-03-04T11:00:00+05:00"], 0),
        (["2026-03-04T11:00:00.5+05:00", "2026-03-04T11:00:00+05:00"], 0),
    ],
    ids=["uniform", "mixed-offsets", "mixed-separators", "mixed-precision"],
)
def test_given_a_page_when_observing_it_whole_then_same_maximum_as_one_by_one(
    page: list[str], expected: int
) -> None:
    whole, one_by_one = CursorTracker("2026-03-04T09:00:00+05:00"), CursorTracker("2026-03-04T09:00:00+05:00")
    whole.observe_all(page)
    for value in page:
        one_by_one.observe(value)
    assert whole.checkpoint() == one_by_one.checkpoint() == page[expected]


def test_given_malformed_maximum_when_checkpointing_then_value_error() -> None:
    tracker = CursorTracker("2026-03-04T10:00:00+05:00")
    tracker.observe("2026-13-99T99:00:00+05:00")
    with pytest.raises(ValueError, match=r"month must be in 1\.\.12"):
        tracker.checkpoint()


@pytest.mark.parametrize("bad", ["2026-03-04T10:00:00", "yesterday", "", "2026-03-04T10:00"])
def test_given_bad_timestamp_when_parsing_then_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match=r"RFC 3339|offset|Invalid isoformat"):
        parse_instant(bad)


def test_given_date_only_when_parsing_then_midnight_tashkent() -> None:
    assert parse_instant("2026-03-04").isoformat() == "2026-03-04T00:00:00+05:00"
    assert format_instant(parse_instant("2026-03-04T00:00:00Z")) == "2026-03-04T05:00:00+05:00"


def test_given_no_cursor_when_starting_then_start_date() -> None:
    cfg = config(lookback_days=3)
    assert read_start(cfg, TRANSFERS, None) == cfg.start_date


def test_given_cursor_when_starting_then_lookback_applies() -> None:
    cfg = config(lookback_days=3)
    cursor = parse_instant("2026-03-01T00:00:00+05:00")
    assert read_start(cfg, TRANSFERS, cursor) == cursor - timedelta(days=3)


def test_given_settling_stream_when_starting_then_settlement_lag_is_added() -> None:
    cfg = config(lookback_days=2, settlement_lag_days=5)
    cursor = parse_instant("2026-03-01T00:00:00+05:00")
    assert read_start(cfg, CARD_TX, cursor) == cursor - timedelta(days=7)
    assert read_start(cfg, TRANSFERS, cursor) == cursor - timedelta(days=2)


def test_given_window_before_start_date_when_starting_then_never_before_start_date() -> None:
    cfg = config(start_date="2026-01-01", lookback_days=30)
    assert read_start(cfg, CARD_TX, parse_instant("2026-01-05T00:00:00+05:00")) == cfg.start_date


def test_given_state_when_advancing_then_never_moves_backwards() -> None:
    state = StreamState.parse(TRANSFERS, {"cursor": "2026-03-04T10:00:00+05:00"})
    state.advance(None, "2026-03-04T04:00:00Z")  # 09:00 Tashkent: earlier
    assert state.cursor_for(None) == "2026-03-04T10:00:00+05:00"
    state.advance(None, "2026-03-04T06:00:00Z")
    assert state.to_dict() == {"cursor": "2026-03-04T06:00:00Z"}


def test_given_partitioned_state_when_round_tripped_then_shape_is_kept() -> None:
    raw = {"partitions": {"crd_A1": {"cursor": "2026-03-04T10:00:00+05:00"}}}
    state = StreamState.parse(CARD_TX, raw)
    assert state.cursor_for("crd_A1") == "2026-03-04T10:00:00+05:00"
    assert state.cursor_for("crd_B2") is None
    state.advance("crd_B2", "2026-03-05T10:00:00+05:00")
    assert StreamState.parse(CARD_TX, state.to_dict()).to_dict() == state.to_dict()


@pytest.mark.parametrize("raw", [None, {}])
def test_given_no_state_when_parsing_then_first_sync(raw: dict[str, Any] | None) -> None:
    assert StreamState.parse(TRANSFERS, raw).cursor_for(None) is None
    assert StreamState.parse(CARD_TX, raw).to_dict() == {"partitions": {}}


@pytest.mark.parametrize(
    ("stream", "raw", "key"),
    [
        ("transfers", {"cursor": 1700000000}, "cursor"),
        ("transfers", {"cursor": "last tuesday"}, "cursor"),
        ("transfers", {"cursor": "2026-03-04T10:00:00"}, "cursor"),
        ("transfers", {"partitions": {}}, "partitions"),
        ("card_transactions", {"cursor": "2026-03-04T10:00:00+05:00"}, "cursor"),
        ("card_transactions", {"partitions": ["crd_A1"]}, "partitions"),
        ("card_transactions", {"partitions": {"crd_A1": "2026-03-04"}}, "partitions.crd_A1"),
        ("card_transactions", {"partitions": {"crd_A1": {"cursor": "soon"}}}, "partitions.crd_A1.cursor"),
    ],
)
def test_given_malformed_state_when_parsing_then_state_error_names_stream_and_key(
    stream: str, raw: dict[str, Any], key: str
) -> None:
    with pytest.raises(StateError) as caught:
        StreamState.parse(get_stream(stream), raw)
    assert f"'{stream}'" in str(caught.value)
    assert key in str(caught.value)
    assert caught.value.failure_type == "config_error"


def test_given_state_not_an_object_when_parsing_then_state_error() -> None:
    with pytest.raises(StateError, match="'transfers'"):
        StreamState.parse(TRANSFERS, ["cursor"])  # type: ignore[arg-type]


def test_given_full_refresh_stream_when_parsing_any_state_then_ignored() -> None:
    assert StreamState.parse(get_stream("cards"), {"whatever": 1}).to_dict() == {}


def test_given_wrong_partition_key_when_used_then_value_error() -> None:
    with pytest.raises(ValueError, match="partition"):
        StreamState(CARD_TX).cursor_for(None)
    with pytest.raises(ValueError, match="partition"):
        StreamState(TRANSFERS).advance("crd_A1", "2026-03-04T10:00:00+05:00")
