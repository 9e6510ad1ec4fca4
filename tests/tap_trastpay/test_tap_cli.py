"""The ``tap-trastpay`` command as a user meets it: about, discovery, config and error messages."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from tap_trastpay.tap import TapTrastpay
from trastpay.config import CONFIG_SCHEMA
from trastpay.streams import EMITTED_STREAMS

from .tap_harness import run_tap_process

SECRET_VALUE = "rt_SECRET_never_printed_0123456789"


def _config(tmp_path: Path, **overrides: Any) -> Path:
    config = {
        "base_url": "http://127.0.0.1:9/api/v1/trastpay",
        "client_id": "trastpay-connectors",
        "device_id": "cli-test",
        "refresh_token": SECRET_VALUE,
        "start_date": "2026-06-01",
        "token_store_path": str(tmp_path / "store.json"),
        **overrides,
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps({k: v for k, v in config.items() if v is not None}), encoding="utf-8")
    return path


def test_given_about_markdown_when_run_then_every_core_setting_is_in_the_settings_table() -> None:
    result = CliRunner().invoke(TapTrastpay.cli, ["--about", "--format=markdown"])
    assert result.exit_code == 0
    rows = {line.split("|")[1].strip() for line in result.output.splitlines() if line.startswith("| ")}
    assert set(CONFIG_SCHEMA["properties"]) <= rows
    assert "## Capabilities" in result.output


def test_given_the_config_schema_then_secrets_are_marked_secret_and_write_only() -> None:
    properties = TapTrastpay.config_jsonschema["properties"]
    for name in ("refresh_token", "pii_hash_key"):
        assert properties[name]["secret"] is True
        assert properties[name]["writeOnly"] is True
    assert not any("airbyte_secret" in prop for prop in properties.values())
    assert properties["base_url"].get("secret") is not True


def test_given_discover_when_offline_then_the_catalog_lists_every_core_stream_with_keys(
    tmp_path: Path,
) -> None:
    result = CliRunner().invoke(TapTrastpay.cli, ["--config", str(_config(tmp_path)), "--discover"])
    assert result.exit_code == 0, result.output
    catalog = json.loads(result.output[result.output.index("{") :])
    entries = {entry["tap_stream_id"]: entry for entry in catalog["streams"]}
    assert set(entries) == {s.name for s in EMITTED_STREAMS}
    for stream in EMITTED_STREAMS:
        assert entries[stream.name]["key_properties"] == list(stream.primary_key)
        assert entries[stream.name].get("replication_key") == stream.cursor_field


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_given_an_unreachable_host_when_syncing_then_one_clear_line_and_no_secret(tmp_path: Path) -> None:
    config = _config(tmp_path, base_url=f"http://127.0.0.1:{_closed_port()}/api/v1/trastpay", max_retries=0)
    done = run_tap_process(config, timeout=60)
    assert done.returncode == 1
    assert "transient_error: Could not connect" in done.stderr
    assert "Traceback" not in done.stderr
    assert SECRET_VALUE not in done.stderr + done.stdout
    assert not (tmp_path / "store.json").exists(), "nothing was rotated, so nothing is stored"


def test_given_a_start_date_in_the_future_when_syncing_then_the_error_names_the_field(tmp_path: Path) -> None:
    done = run_tap_process(_config(tmp_path, start_date="2099-01-01"), timeout=60)
    assert done.returncode == 1
    assert "config_error: Invalid config field 'start_date'" in done.stderr
    assert SECRET_VALUE not in done.stderr + done.stdout


def test_given_a_missing_required_setting_when_starting_then_the_setting_is_named(tmp_path: Path) -> None:
    done = run_tap_process(_config(tmp_path, device_id=None), timeout=60)
    assert done.returncode == 1
    assert "device_id" in done.stderr
    assert SECRET_VALUE not in done.stderr + done.stdout


def test_given_a_config_file_holding_a_json_list_when_starting_then_one_named_error_and_no_traceback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps([{"refresh_token": SECRET_VALUE}]), encoding="utf-8")
    done = run_tap_process(path, timeout=60)
    assert done.returncode == 1
    assert (
        "config_error: Invalid config field 'config': the --config file must hold a JSON object"
        in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert SECRET_VALUE not in done.stderr + done.stdout


def test_given_a_token_store_path_that_cannot_exist_when_syncing_then_the_setting_is_named(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    done = run_tap_process(_config(tmp_path, token_store_path=str(blocker / "store.json")), timeout=60)
    assert done.returncode == 1
    assert "config_error: Invalid config field 'token_store_path'" in done.stderr
    assert "Traceback" not in done.stderr


def test_given_a_vanishing_request_rate_when_starting_then_the_setting_is_named(tmp_path: Path) -> None:
    done = run_tap_process(_config(tmp_path, requests_per_second=1e-300), timeout=60)
    assert done.returncode == 1
    assert "requests_per_second" in done.stderr
    assert "Traceback" not in done.stderr
    assert "e-300" not in done.stderr
