"""The orjson writer: exact integers, and stdout flushed only where a target needs it."""

from __future__ import annotations

import decimal
import io
import sys
from datetime import UTC, datetime

import orjson
import pytest
from singer_sdk.singerlib.encoding.simple import Message, RecordMessage, SchemaMessage, StateMessage

from tap_trastpay.writer import OrjsonSingerWriter


class _CountingStdout(io.StringIO):
    flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


@pytest.fixture
def stdout(monkeypatch: pytest.MonkeyPatch) -> _CountingStdout:
    """A counting stdout; installed lazily because pytest re-installs its capture after setup."""
    fake = _CountingStdout()
    original_write = OrjsonSingerWriter.write_message

    def write_to_fake(self: OrjsonSingerWriter, message: Message) -> None:
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stdout", fake)
            original_write(self, message)

    monkeypatch.setattr(OrjsonSingerWriter, "write_message", write_to_fake)
    return fake


def test_given_int64_money_when_writing_record_then_value_stays_an_exact_integer(
    stdout: _CountingStdout,
) -> None:
    big = 2**62 + 1
    OrjsonSingerWriter().write_message(
        RecordMessage(stream="transfers", record={"amount_minor": big}, time_extracted=datetime.now(UTC))
    )
    line = stdout.getvalue()
    assert line.endswith("\n")
    assert f'"amount_minor":{big}' in line
    assert orjson.loads(line)["record"]["amount_minor"] == big


def test_given_records_then_state_when_writing_then_only_the_state_flushes(stdout: _CountingStdout) -> None:
    writer = OrjsonSingerWriter()
    writer.write_message(SchemaMessage(stream="s", schema={"type": "object"}, key_properties=["id"]))
    flushes_after_schema = stdout.flushes
    for index in range(50):
        writer.write_message(RecordMessage(stream="s", record={"id": str(index)}))
    assert stdout.flushes == flushes_after_schema
    writer.write_message(StateMessage(value={"bookmarks": {}}))
    assert stdout.flushes == flushes_after_schema + 1
    messages = [orjson.loads(line) for line in stdout.getvalue().splitlines()]
    assert [m["type"] for m in messages] == ["SCHEMA"] + ["RECORD"] * 50 + ["STATE"]


def test_given_a_decimal_when_writing_then_it_is_an_exact_string_not_a_float(stdout: _CountingStdout) -> None:
    OrjsonSingerWriter().write_message(
        RecordMessage(stream="s", record={"rate": decimal.Decimal("12904.90")})
    )
    assert orjson.loads(stdout.getvalue())["record"]["rate"] == "12904.90"


def test_given_an_unknown_type_when_writing_then_the_error_names_the_type(stdout: _CountingStdout) -> None:
    with pytest.raises(TypeError, match="object"):
        OrjsonSingerWriter().write_message(RecordMessage(stream="s", record={"x": object()}))
