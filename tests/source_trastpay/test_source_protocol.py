"""The direct path's protocol lines: the CDK path's JSON, secrets hidden field by field (hermetic)."""

from __future__ import annotations

import json
from typing import Any

import orjson
from airbyte_protocol.models import AirbyteMessage as ProtocolMessage

from source_trastpay.protocol import SecretRegistry, error_line, log_line, record_lines, state_line
from source_trastpay.spec import connection_specification


def test_given_a_page_when_written_then_each_line_is_the_record_message_as_orjson_writes_it() -> None:
    page: list[dict[str, Any]] = [
        {"id": "tx_1", "closed_at": None, "text": 'quote " and \\ back'},
        {"id": "tx_2"},
    ]

    lines = record_lines('card_"transactions', page, 1_796_000_000_000)

    expected = [
        orjson.dumps(
            {
                "type": "RECORD",
                "record": {"stream": 'card_"transactions', "data": d, "emitted_at": 1_796_000_000_000},
            }
        )
        for d in page
    ]
    assert lines.split(b"\n") == [*expected, b""]
    assert record_lines("cards", [], 1) == b""


def test_given_a_config_when_registered_then_only_its_airbyte_secret_settings_are_hidden() -> None:
    registry = SecretRegistry()
    config = {"refresh_token": "rt-secret-1234", "client_id": "trastpay-connectors", "pii_hash_key": "k" * 16}

    registry.from_config(connection_specification(), config)
    registry.add("rotated-access-5678")

    text = registry("rt-secret-1234 trastpay-connectors kkkkkkkkkkkkkkkk rotated-access-5678")
    assert text == "**** trastpay-connectors **** ****"


def test_given_a_secret_that_is_json_syntax_when_an_error_is_written_then_the_line_stays_valid_json() -> None:
    from source_trastpay import protocol

    protocol.SECRETS.add('"type"')
    try:
        line = error_line('said "type" here', 'AuthError: "type"', 'Trace "type"', "config_error", "cards")
    finally:
        protocol.SECRETS.from_config({}, {})

    message = json.loads(line)
    assert message["trace"]["error"]["message"] == "said **** here"
    assert message["trace"]["error"]["stream_descriptor"] == {"name": "cards"}
    ProtocolMessage.model_validate(message)


def test_given_state_and_log_lines_then_they_are_valid_protocol_messages_unchanged_by_the_models() -> None:
    for line in (
        state_line("transfers", {"cursor": "2026-10-01T00:00:00+05:00"}, 17),
        log_line("WARN", "late"),
    ):
        message = json.loads(line)
        model = ProtocolMessage.model_validate(message)
        assert model.model_dump(mode="json", exclude_none=True) == message
    assert json.loads(state_line("cards", {}, 3))["state"]["sourceStats"] == {"recordCount": 3.0}
