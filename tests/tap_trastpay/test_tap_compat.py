"""tap_trastpay.compat: every private singer-sdk name the tap relies on, checked loudly.

When a singer-sdk upgrade renames, re-signs or changes one of them, one of these fails with the
name of what moved; tap_trastpay/compat.py is the one file to adapt.
"""

from __future__ import annotations

import inspect
from datetime import datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from packaging.specifiers import SpecifierSet
from singer_sdk import Stream, Tap

from tap_trastpay import compat
from tap_trastpay.tap import TapTrastpay

CONFIG = {
    "base_url": "http://127.0.0.1:9/api/v1/trastpay",
    "client_id": "trastpay-connectors",
    "device_id": "compat-device",
    "refresh_token": "compat-refresh-token-0001",
    "start_date": "2026-08-01",
}

PYPROJECT = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_given_the_installed_sdk_then_it_is_in_the_supported_range_of_pyproject() -> None:
    assert version("singer-sdk") in SpecifierSet(compat.SUPPORTED_SINGER_SDK)
    assert f'"singer-sdk{compat.SUPPORTED_SINGER_SDK}"' in PYPROJECT


def test_given_the_sdk_then_the_private_names_exist_with_the_signatures_compat_relies_on() -> None:
    assert _parameters(Stream._write_record_message) == ["self", "record"]
    assert _parameters(Stream._increment_stream_state) == ["self", "latest_record", "context"]
    assert _parameters(Stream._sync_records) == ["self", "context", "write_messages"]
    assert _parameters(Stream._write_activate_version_message) == ["self", "full_table_version"]
    assert _parameters(Tap._validate_config) == ["self", "raise_errors"]
    assert _parameters(compat.get_state_if_exists)[:3] == [
        "tap_state",
        "tap_stream_id",
        "state_partition_context",
    ]
    assert compat.StateMessage(value={"bookmarks": {}}).to_dict() == {
        "type": "STATE",
        "value": {"bookmarks": {}},
    }
    now = compat.utc_now()
    assert isinstance(now, datetime)
    assert now.tzinfo is not None


def test_given_a_tap_then_streams_carry_the_private_attributes_compat_reads() -> None:
    tap = TapTrastpay(config=CONFIG, parse_env_config=False)
    stream = tap.streams["cards"]
    assert isinstance(stream, compat.CompatStream)

    assert stream.table_version is None  # `_stream_version`, set by the SDK's sync when versions are on
    assert isinstance(stream._initialized_at, int)  # the SDK derives the table version from it


def test_given_a_config_the_core_rejects_when_validated_then_the_core_message_names_the_setting() -> None:
    tap = TapTrastpay(config=CONFIG, parse_env_config=False)

    errors = tap._validate_config(raise_errors=False)

    assert errors == []
    bad = TapTrastpay(config={**CONFIG, "page_size": 5000}, parse_env_config=False, validate_config=False)
    (line,) = bad._validate_config(raise_errors=False)
    assert "Invalid config field 'page_size'" in line
