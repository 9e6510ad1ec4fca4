"""Every record leaving the core is masked, PII-processed and checked for keys, cursor and money types."""

from __future__ import annotations

from typing import Any

import pytest

from trastpay.errors import PayloadError, SchemaDriftError
from trastpay.records import RecordProcessor
from trastpay.streams import get_stream

from .builders import VALID_PAN, at, card, card_transaction, config, transfer

HASH_KEY = "pii-hash-key-0123456789"


def _process(stream: str, record: Any, partition: str | None = None, **cfg: Any) -> dict[str, Any]:
    return RecordProcessor(get_stream(stream), config(**cfg)).process(record, partition)


def test_given_full_pan_in_pan_field_when_processing_then_masked() -> None:
    record = _process("transfers", transfer(1, at(), receiver_pan_masked=VALID_PAN))
    assert record["receiver_pan_masked"] == "860030******6312"


def test_given_pan_in_free_text_when_processing_then_scrubbed_everywhere() -> None:
    record = _process(
        "card_transactions",
        card_transaction(1, at(), description=f"P2P to {VALID_PAN}", merchant_name=f"shop {VALID_PAN}"),
    )
    assert VALID_PAN not in str(record)
    assert record["description"] == "P2P to 860030******6312"


def test_given_pan_in_unknown_added_field_when_processing_then_field_kept_and_masked() -> None:
    record = _process("transfers", transfer(1, at(), note=f"card {VALID_PAN}", new_flag=True))
    assert record["note"] == "card 860030******6312"
    assert record["new_flag"] is True


def test_given_pan_nested_in_event_data_when_processing_then_masked() -> None:
    event = {
        "id": "evt_1",
        "occurred_at": at(),
        "type": "transfer.created",
        "data": {"pan": VALID_PAN, "x": [VALID_PAN]},
    }
    record = _process("events", event)
    assert VALID_PAN not in str(record)


def test_given_identifier_with_digit_run_that_is_no_card_when_processing_then_key_is_never_altered() -> None:
    record = _process("transfers", transfer(1, at(), id="trf_8600301234566311"))
    assert record["id"] == "trf_8600301234566311"


@pytest.mark.parametrize(("stream", "make"), [("transfers", "id"), ("cards", "card_token")])
def test_given_card_number_in_the_primary_key_when_processing_then_record_refused_naming_the_field(
    stream: str, make: str
) -> None:
    record = transfer(1, at(), id=f"trf_{VALID_PAN}") if stream == "transfers" else card(VALID_PAN)
    expected = f"'{stream}': key field '{make}' holds a card number"
    with pytest.raises(SchemaDriftError, match=expected) as caught:
        _process(stream, record)
    assert VALID_PAN not in str(caught.value)


@pytest.mark.parametrize("mode", ["keep", "hash", "drop"])
def test_given_card_number_in_identifier_fields_when_processing_then_masked_whatever_the_pii_mode(
    mode: str,
) -> None:
    extra = {"source_card_token": VALID_PAN, "merchant_id": f"m {VALID_PAN}", "ref_ids": [VALID_PAN]}
    cfg: dict[str, Any] = {"pii_mode": mode, **({"pii_hash_key": HASH_KEY} if mode == "hash" else {})}
    record = _process("transfers", transfer(1, at(), **extra), **cfg)
    assert VALID_PAN not in str(record)
    assert record["source_card_token"] == "860030******6312"


@pytest.mark.parametrize("mode", ["keep", "hash", "drop"])
def test_given_card_number_in_nested_personal_data_when_processing_then_masked_whatever_the_pii_mode(
    mode: str,
) -> None:
    cfg: dict[str, Any] = {"pii_mode": mode, **({"pii_hash_key": HASH_KEY} if mode == "hash" else {})}
    event = {
        "id": "evt_1",
        "occurred_at": at(),
        "type": "transfer.created",
        "data": {
            "receiver_name": f"R {VALID_PAN}",
            "card_token": VALID_PAN,
            "legs": [{"sender_phone": VALID_PAN, "note": {"deep": [f"x {VALID_PAN}"]}}],
            VALID_PAN: "a card number as a key",
        },
    }
    record = _process("events", event, **cfg)
    assert VALID_PAN not in str(record)
    if mode == "keep":
        assert record["data"]["receiver_name"] == "R 860030******6312"


@pytest.mark.parametrize(
    "text", ["8600.3012.3456.6312", "8600 3012 3456 6312", "8600-3012-3456-6312", "1 8600 3012 3456 6312 9"]
)
def test_given_card_number_grouped_by_spaces_dashes_or_dots_when_processing_then_masked(text: str) -> None:
    record = _process("transfers", transfer(1, at(), note=f"to {text}."))
    assert "8600301234566312" not in record["note"].replace(" ", "").replace("-", "").replace(".", "")


def test_given_card_number_as_a_field_name_when_processing_then_record_refused() -> None:
    with pytest.raises(SchemaDriftError, match="a field name holds a card number") as caught:
        _process("transfers", transfer(1, at(), **{VALID_PAN: "x"}))
    assert VALID_PAN not in str(caught.value)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 2**64 - 1])
def test_given_money_outside_int64_when_processing_then_refused_naming_the_field(value: int) -> None:
    with pytest.raises(SchemaDriftError, match="'amount_minor' is outside the int64 range"):
        _process("transfers", transfer(1, at(), amount_minor=value))
    event = {"id": "evt_1", "occurred_at": at(), "type": "t", "data": {"fee_minor": value}}
    with pytest.raises(SchemaDriftError, match=r"'data\.fee_minor' is outside the int64 range"):
        _process("events", event)


@pytest.mark.parametrize("mode", ["keep", "hash", "drop"])
def test_given_pii_mode_when_processing_then_names_follow_the_mode(mode: str) -> None:
    cfg: dict[str, Any] = {"pii_mode": mode}
    if mode == "hash":
        cfg["pii_hash_key"] = HASH_KEY
    record = _process("cards", card("crd_A1", holder_phone="+998901234567"), **cfg)
    if mode == "keep":
        assert record["holder_name"] == "Aziz Rakhimov"
        assert record["holder_phone"] == "+998901234567"
    elif mode == "drop":
        assert record["holder_name"] is None
        assert record["holder_phone"] is None
    else:
        assert record["holder_name"].startswith("hmac:")
        assert record["holder_phone"].startswith("hmac:")
    assert record["card_token"] == "crd_A1"


def test_given_hash_mode_when_processing_then_receiver_and_counterparty_names_hashed() -> None:
    processor = RecordProcessor(get_stream("transfers"), config(pii_mode="hash", pii_hash_key=HASH_KEY))
    record = processor.process(transfer(1, at()))
    assert record["receiver_name"].startswith("hmac:")
    tx = RecordProcessor(get_stream("card_transactions"), config(pii_mode="hash", pii_hash_key=HASH_KEY))
    assert tx.process(card_transaction(1, at(), counterparty_name="Ali"))["counterparty_name"].startswith(
        "hmac:"
    )


@pytest.mark.parametrize("value", [1.5, "15200000", True])
def test_given_money_field_changed_type_when_processing_then_payload_error_without_value(
    value: object,
) -> None:
    with pytest.raises(PayloadError, match="amount_minor' changed type") as caught:
        _process("transfers", transfer(1, at(), amount_minor=value))
    assert "15200000" not in str(caught.value)
    assert isinstance(caught.value, SchemaDriftError)
    assert caught.value.failure_type == "system_error", "schema drift must stop loudly, not be retried"


def test_given_unknown_money_field_as_float_when_processing_then_rejected() -> None:
    with pytest.raises(PayloadError, match="fee_minor"):
        _process("transfers", transfer(1, at(), fee_minor=0.5))


def test_given_null_money_field_when_processing_then_allowed() -> None:
    assert (
        _process("card_transactions", card_transaction(1, at(), commission_minor=None))["commission_minor"]
        is None
    )


@pytest.mark.parametrize("missing", ["id", "updated_at"])
def test_given_record_without_key_or_cursor_when_processing_then_error_names_stream_and_field(
    missing: str,
) -> None:
    record = transfer(1, at())
    del record[missing]
    with pytest.raises(PayloadError) as caught:
        _process("transfers", record)
    assert "'transfers'" in str(caught.value)
    assert f"'{missing}'" in str(caught.value)


def test_given_non_object_item_when_processing_then_payload_error() -> None:
    with pytest.raises(PayloadError, match="not a JSON object"):
        _process("transfers", ["trf_1"])


def test_given_cursor_not_a_string_when_processing_then_changed_type() -> None:
    record = transfer(1, at())
    record["updated_at"] = 1700000000
    with pytest.raises(PayloadError, match="updated_at"):
        _process("transfers", record)


def test_given_partitioned_record_without_parent_field_when_processing_then_partition_key_filled() -> None:
    item = {"instalment_number": 1, "updated_at": at(), "principal_minor": 100}
    record = _process("microloan_schedules", item, partition="loan_7")
    assert record["loan_id"] == "loan_7"


def test_given_pan_free_page_when_processing_then_pan_fields_are_still_enforced() -> None:
    processor = RecordProcessor(get_stream("transfers"), config())
    record = processor.process(transfer(1, at(), sender_pan_masked="86003012345"), pan_free=True)
    assert record["sender_pan_masked"] == "860030*2345"


@pytest.mark.parametrize(
    ("raw", "might"),
    [
        (b'{"items":[{"id":"tx_20358000000","amount_minor":-16290000}]}', False),
        (b'{"d":"card 8600301234566312"}', True),
        (b'{"d":"card 8600 3012 3456 6312"}', True),
        (b'{"d":"card \\u0038600301234566312"}', True),
        (b'{"d":"card 8600.3012.3456.6312"}', True),
        (b'{"d":"card 8600\\u00203012\\u00203456\\u00206312"}', True),
    ],
)
def test_given_raw_page_when_prechecked_then_only_pages_that_could_hold_a_pan_are_flagged(
    raw: bytes, might: bool
) -> None:
    from trastpay.masking import might_hold_pan

    assert might_hold_pan(raw) is might
