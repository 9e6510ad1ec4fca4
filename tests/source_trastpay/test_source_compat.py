"""source_trastpay.compat: every private airbyte-cdk name the source relies on, checked loudly.

When an airbyte-cdk upgrade renames, re-signs or changes one of them, one of these fails with the
name of what moved; source_trastpay/compat.py is the one file to adapt.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (  # type: ignore[attr-defined]  # implicit re-exports
    AirbyteMessage,
    AirbyteRecordMessage,
    Type,
)
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor
from airbyte_cdk.sources.streams import Stream
from packaging.specifiers import SpecifierSet

from source_trastpay import compat
from source_trastpay.streams import state_message

PYPROJECT = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text(encoding="utf-8")


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def test_given_the_installed_cdk_then_it_is_in_the_supported_range_of_pyproject() -> None:
    assert version("airbyte-cdk") in SpecifierSet(compat.SUPPORTED_AIRBYTE_CDK)
    assert f'"airbyte-cdk{compat.SUPPORTED_AIRBYTE_CDK}"' in PYPROJECT


def test_given_the_cdk_then_the_private_names_exist_with_the_signatures_compat_relies_on() -> None:
    assert _parameters(AirbyteEntrypoint._emit_queued_messages) == ["self", "source"]
    assert isinstance(inspect.getattr_static(AirbyteEntrypoint, "handle_record_counts"), staticmethod)
    assert _parameters(AirbyteEntrypoint.handle_record_counts) == ["message", "stream_message_count"]
    assert _parameters(AirbyteEntrypoint.read) == ["self", "source_spec", "config", "catalog", "state"]
    assert _parameters(Stream.read) == [
        "self",
        "configured_stream",
        "logger",
        "slice_logger",
        "stream_state",
        "state_manager",
        "internal_config",
    ]
    assert compat.NO_CURSOR_STATE_KEY == "__ab_no_cursor_state_message"
    assert compat.ENV_REQUEST_CACHE_PATH == "REQUEST_CACHE_PATH"
    assert callable(compat.PRINT_BUFFER.flush)
    assert hasattr(compat.PRINT_BUFFER, "__enter__")


def test_given_records_and_a_state_when_counted_then_compat_counts_exactly_as_the_cdk() -> None:
    messages = [
        AirbyteMessage(type=Type.RECORD, record=AirbyteRecordMessage(stream=name, data={}, emitted_at=1))
        for name in ("cards", "cards", "events")
    ]
    ours: defaultdict[HashableStreamDescriptor, float] = defaultdict(float)
    cdks: defaultdict[HashableStreamDescriptor, float] = defaultdict(float)
    for message in messages:
        compat.CompatEntrypoint.handle_record_counts(message, ours)
        AirbyteEntrypoint.handle_record_counts(message, cdks)
    assert (
        ours
        == cdks
        == {
            HashableStreamDescriptor(name="cards"): 2.0,
            HashableStreamDescriptor(name="events"): 1.0,
        }
    )

    state = compat.CompatEntrypoint.handle_record_counts(state_message("cards", {"cursor": "x"}), ours)

    assert state.state is not None
    assert state.state.sourceStats is not None
    assert state.state.sourceStats.recordCount == 2.0
