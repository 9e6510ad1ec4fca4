"""The SDK-free writer's RECORD lines are byte for byte the singer-sdk path writer's."""

from __future__ import annotations

import contextlib
import io
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tap_trastpay.native_writer import MessageOut
from tap_trastpay.writer import OrjsonSingerWriter

EXTRACTED = datetime(2026, 11, 2, 8, 30, 1, 123456, tzinfo=UTC)
RECORDS: list[dict[str, Any]] = [
    {"id": "t1", "amount_minor": 9_007_199_254_740_993, "note": "Oʻzbekiston \u200f\n", "tags": [1, None]},
    {"id": "t2", "amount_minor": -5, "nested": {"a": {"b": True}}},
]


def _sdk_lines(records: list[dict[str, Any]], version: int | None) -> bytes:
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        writer = OrjsonSingerWriter()
        for record in records:
            writer.write_record("card_transactions", record, version, EXTRACTED)
    return text.getvalue().encode("utf-8")


@pytest.mark.parametrize("version", [None, 1_796_000_000])
@pytest.mark.parametrize(
    "records", [RECORDS, [{"id": "t3", "rate": Decimal("12.3450")}]], ids=["json", "decimal"]
)
def test_given_a_page_when_written_then_its_lines_equal_the_sdk_writers(
    records: list[dict[str, Any]], version: int | None
) -> None:
    out = io.BytesIO()
    MessageOut(out).records("card_transactions", records, version, EXTRACTED)
    assert out.getvalue() == _sdk_lines(records, version)


def test_given_an_empty_page_when_written_then_nothing_is_written() -> None:
    out = io.BytesIO()
    MessageOut(out).records("cards", [], None, EXTRACTED)
    assert out.getvalue() == b""
