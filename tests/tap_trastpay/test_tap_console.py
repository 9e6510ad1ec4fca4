"""Which path answers an invocation: only a plain sync runs without singer-sdk, everything else with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tap_trastpay.console import plain_sync
from tap_trastpay.native_catalog import discovered_catalog, selected_streams
from tap_trastpay.tap import TapTrastpay

CONFIG: dict[str, Any] = {
    "base_url": "http://127.0.0.1:9/api",
    "client_id": "c",
    "device_id": "d",
    "refresh_token": "r",
    "start_date": "2026-06-01",
}


def _write(path: Path, document: Any) -> str:
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def _catalog(tmp_path: Path, edit: Any = None) -> str:
    catalog = discovered_catalog()
    if edit is not None:
        edit(catalog)
    return _write(tmp_path / "catalog.json", catalog)


def test_given_the_tap_when_discovering_then_the_sdk_free_catalog_is_the_sdks() -> None:
    sdk = TapTrastpay(config=CONFIG, parse_env_config=False).catalog_dict
    assert json.loads(json.dumps(discovered_catalog())) == json.loads(json.dumps(sdk))


def test_given_a_plain_invocation_when_dispatching_then_the_sdk_free_path_answers(tmp_path: Path) -> None:
    config = _write(tmp_path / "a.json", CONFIG)
    extra = _write(tmp_path / "b.json", {"page_size": 10, "emit_activate_version_messages": True})
    state = _write(tmp_path / "state.json", {"bookmarks": {"events": {"replication_key_value": "x"}}})
    request = plain_sync(
        ["--config", config, f"--config={extra}", "--state", state, "--catalog", _catalog(tmp_path)], {}
    )
    assert request is not None
    assert request.config == {**CONFIG, "page_size": 10, "emit_activate_version_messages": True}
    assert request.state == {"bookmarks": {"events": {"replication_key_value": "x"}}}
    assert request.selected == {entry["tap_stream_id"] for entry in discovered_catalog()["streams"]}


def _deselect_property(catalog: dict[str, Any]) -> None:
    catalog["streams"][0]["metadata"][1]["metadata"]["selected"] = False


def _change_schema(catalog: dict[str, Any]) -> None:
    catalog["streams"][0]["schema"]["properties"].pop("id")


def _deselect_stream(catalog: dict[str, Any]) -> None:
    catalog["streams"][1]["metadata"][-1]["metadata"]["selected"] = False


@pytest.mark.parametrize(
    ("args", "settings", "env"),
    [
        (["--discover"], {}, {}),
        (["--about"], {}, {}),
        (["--test"], {}, {}),
        (["--version"], {}, {}),
        (["--help"], {}, {}),
        (["--config", "ENV"], {}, {}),
        ([], {}, {"TRASTPAY_FAST_PATH": "0"}),
        ([], {}, {"SINGER_SDK_LOG_CONFIG": "logging.yml"}),
        ([], {"stream_maps": {"events": None}}, {}),
        ([], {"stream_map_config": {}}, {}),
        ([], {"faker_config": {"seed": 1}}, {}),
        ([], {"flattening_enabled": True}, {}),
        ([], {"flattening_max_depth": 2}, {}),
        ([], {"batch_config": {"encoding": {"format": "jsonl"}}}, {}),
        ([], {"emit_activate_version_messages": "yes"}, {}),
        ([], {"backfill": {"start_date": "2026-07-01", "end_date": "2026-08-01", "streams": ["events"]}}, {}),
    ],
    ids=lambda value: json.dumps(value)[:40],
)
def test_given_anything_but_a_plain_sync_when_dispatching_then_singer_sdk_answers(
    tmp_path: Path, args: list[str], settings: dict[str, Any], env: dict[str, str]
) -> None:
    config = _write(tmp_path / "config.json", {**CONFIG, **settings})
    assert plain_sync(["--config", config, *args], env) is None


@pytest.mark.parametrize(
    "edit", [_deselect_property, _change_schema, lambda c: c["streams"].append(c["streams"][0])]
)
def test_given_a_catalog_the_sdk_free_path_cannot_reproduce_when_dispatching_then_singer_sdk_answers(
    tmp_path: Path, edit: Any
) -> None:
    config = _write(tmp_path / "config.json", CONFIG)
    assert plain_sync(["--config", config, "--catalog", _catalog(tmp_path, edit)], {}) is None


def test_given_a_catalog_deselecting_a_stream_when_reading_it_then_only_that_stream_is_left_out() -> None:
    catalog = discovered_catalog()
    _deselect_stream(catalog)
    left_out = catalog["streams"][1]["tap_stream_id"]
    chosen = selected_streams(catalog)
    assert chosen is not None
    assert left_out not in chosen
    assert len(chosen) == len(catalog["streams"]) - 1


@pytest.mark.parametrize(
    "state",
    [
        [],
        {"bookmarks": []},
        {"bookmarks": {"events": "2026-01-01"}},
        {"bookmarks": {"card_transactions": {"partitions": {"context": {}}}}},
        {"bookmarks": {"card_transactions": {"partitions": [{"context": {"card_token": "a"}}] * 2}}},
    ],
)
def test_given_a_state_the_sdk_path_would_load_differently_when_dispatching_then_singer_sdk_answers(
    tmp_path: Path, state: Any
) -> None:
    config = _write(tmp_path / "config.json", CONFIG)
    assert plain_sync(["--config", config, "--state", _write(tmp_path / "state.json", state)], {}) is None


@pytest.mark.parametrize(
    "args",
    [["--state"], ["--config"], ["--catalog", "a", "--catalog", "b"], ["--state", "-x"], ["--bogus", "1"]],
)
def test_given_unusual_arguments_when_dispatching_then_singer_sdk_reports_them(
    tmp_path: Path, args: list[str]
) -> None:
    config = _write(tmp_path / "config.json", CONFIG)
    assert plain_sync(["--config", config, *args], {}) is None


def test_given_unreadable_files_when_dispatching_then_singer_sdk_reports_them(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    config = _write(tmp_path / "config.json", CONFIG)
    assert plain_sync(["--config", str(tmp_path / "missing.json")], {}) is None
    assert plain_sync(["--config", str(tmp_path / "broken.json")], {}) is None
    assert plain_sync(["--config", _write(tmp_path / "list.json", [1])], {}) is None
    assert plain_sync(["--config", config, "--state", str(tmp_path / "broken.json")], {}) is None
