"""The console entry point: protocol messages on stdout, the core's config messages first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from airbyte_cdk.models import FailureType  # type: ignore[attr-defined]
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_trastpay.run import TrastpayEntrypoint, run
from source_trastpay.spec import connector_specification
from trastpay.streams import EMITTED_STREAMS

VALID = {
    "base_url": "http://127.0.0.1:9/api/v1/trastpay",
    "client_id": "trastpay-connectors",
    "device_id": "unit-device",
    "refresh_token": "unit-refresh-token-0001",
    "start_date": "2026-08-01",
}


def test_given_spec_command_when_run_then_one_spec_message_on_stdout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run(["spec"])

    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    specs = [m for m in messages if m["type"] == "SPEC"]
    assert len(specs) == 1
    assert (
        specs[0]["spec"]["connectionSpecification"]["properties"]["refresh_token"]["airbyte_secret"] is True
    )


def test_given_discover_command_when_run_then_catalog_without_network(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(VALID), encoding="utf-8")

    run(["discover", "--config", str(config)])

    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    catalog = next(m["catalog"] for m in messages if m["type"] == "CATALOG")
    assert [s["name"] for s in catalog["streams"]] == [
        s.name for s in EMITTED_STREAMS
    ]  # the API's 16 and sync_audit


def test_given_setting_rejected_by_core_when_validated_then_config_error_names_the_field() -> None:
    with pytest.raises(AirbyteTracedException) as raised:
        TrastpayEntrypoint.validate_connection(connector_specification(), {**VALID, "page_size": 5000})

    assert raised.value.failure_type == FailureType.config_error
    assert raised.value.message is not None
    assert raised.value.message.startswith("Invalid config field 'page_size'")


def test_given_valid_config_when_validated_then_accepted_and_left_unchanged() -> None:
    config = json.loads(json.dumps(VALID))

    TrastpayEntrypoint.validate_connection(connector_specification(), config)

    assert config == VALID  # validation reads the config; it never fills in or rewrites a field


@pytest.mark.parametrize(
    ("content", "why"), [('[{"a": 1}]', "must hold a JSON object, not a list"), ("{", "is not valid JSON")]
)
def test_given_a_config_file_that_is_no_json_object_when_run_then_one_config_error_trace_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, why: str
) -> None:
    config = tmp_path / "config.json"
    config.write_text(content, encoding="utf-8")

    with pytest.raises(SystemExit) as exited:
        run(["check", "--config", str(config)])

    assert exited.value.code == 1
    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    errors = [m["trace"]["error"] for m in messages if m["type"] == "TRACE"]
    assert len(errors) == 1
    assert errors[0]["failure_type"] == "config_error"
    assert f"Invalid config field 'config': the --config file {why}" == errors[0]["message"]
    assert errors[0].get("stack_trace") is None
