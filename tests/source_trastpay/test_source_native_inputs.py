"""Which ``read`` invocations the direct path answers, and which it leaves to the CDK path (hermetic)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from source_trastpay.console import answer
from source_trastpay.native_inputs import ReadRequest, load_inputs, read_request

CONFIG = {
    "base_url": "http://127.0.0.1:9/api/v1/trastpay",
    "client_id": "trastpay-connectors",
    "device_id": "inputs-device",
    "refresh_token": "inputs-refresh-token-0001",
    "start_date": "2026-08-01",
}
STREAM = {"name": "cards", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}
CATALOG = {"streams": [{"stream": STREAM, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]}


@pytest.mark.parametrize(
    "argv",
    [
        ["read", "--config", "c", "--catalog", "k"],
        ["read", "--catalog", "k", "--config", "c"],
        ["read", "--config=c", "--catalog=k"],
        ["read", "--state", "s", "--catalog=k", "--config", "c"],
    ],
)
def test_given_plain_read_arguments_in_any_order_when_parsed_then_the_three_paths(argv: list[str]) -> None:
    request = read_request(argv)

    assert request is not None
    assert (request.config_path, request.catalog_path) == ("c", "k")
    assert request.state_path == ("s" if "--state" in argv else None)


@pytest.mark.parametrize(
    "argv",
    [
        ["read", "--config", "c"],
        ["read", "--config", "c", "--catalog", "k", "--debug"],
        ["read", "--conf", "c", "--catalog", "k"],
        ["read", "--config", "c", "--config", "d", "--catalog", "k"],
        ["read", "--config", "--catalog", "k"],
        ["read", "--config=", "--catalog", "k"],
        ["read", "--config", "c", "--catalog", "k", "extra"],
        ["check", "--config", "c"],
    ],
    ids=["no-catalog", "debug", "abbreviated", "twice", "missing-value", "empty-value", "extra", "not-read"],
)
def test_given_anything_but_a_plain_read_when_parsed_then_left_to_the_cdk(argv: list[str]) -> None:
    assert read_request(argv) is None


def _files(
    tmp_path: Path, config: Any = CONFIG, catalog: Any = CATALOG, state: str | None = None
) -> ReadRequest:
    (tmp_path / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (tmp_path / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    state_path = None
    if state is not None:
        (tmp_path / "state.json").write_text(state, encoding="utf-8")
        state_path = str(tmp_path / "state.json")
    return ReadRequest(str(tmp_path / "config.json"), str(tmp_path / "catalog.json"), state_path)


def test_given_per_stream_state_when_loaded_then_each_blob_by_name_and_namespace(tmp_path: Path) -> None:
    state = [
        {
            "type": "STREAM",
            "stream": {"stream_descriptor": {"name": "transfers"}, "stream_state": {"cursor": "x"}},
        },
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": "cards"}, "stream_state": None}},
    ]

    inputs = load_inputs(_files(tmp_path, state=json.dumps(state)))

    assert inputs is not None
    assert inputs.states == {("transfers", None): {"cursor": "x"}, ("cards", None): {}}
    assert [(s.name, s.incremental) for s in inputs.streams] == [("cards", False)]


@pytest.mark.parametrize(
    ("config", "catalog", "state"),
    [
        ({**CONFIG, "_limit": 5}, CATALOG, None),
        (["not", "an", "object"], CATALOG, None),
        (
            CONFIG,
            {"streams": [{"stream": STREAM, "sync_mode": "sometimes", "destination_sync_mode": "append"}]},
            None,
        ),
        (
            CONFIG,
            {
                "streams": [
                    {
                        "stream": {**STREAM, "colour": "red"},
                        "sync_mode": "full_refresh",
                        "destination_sync_mode": "append",
                    }
                ]
            },
            None,
        ),
        (CONFIG, CATALOG, ""),
        (CONFIG, CATALOG, '{"transfers": {"cursor": "x"}}'),
        (CONFIG, CATALOG, '[{"type": "GLOBAL", "global": {"stream_states": []}}]'),
    ],
    ids=[
        "cdk-internal-key",
        "config-not-object",
        "bad-sync-mode",
        "unknown-stream-field",
        "empty-state-file",
        "legacy-state",
        "global-state",
    ],
)
def test_given_inputs_the_protocol_models_might_read_differently_when_loaded_then_left_to_the_cdk(
    tmp_path: Path, config: Any, catalog: Any, state: str | None
) -> None:
    assert load_inputs(_files(tmp_path, config, catalog, state)) is None


@pytest.mark.parametrize("command", [["spec"], ["read", "--config", "c", "--catalog", "k"]])
def test_given_the_fast_path_switched_off_when_answered_then_every_command_goes_to_the_cdk(
    monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("TRASTPAY_FAST_PATH", "0")

    assert answer(command) is None
