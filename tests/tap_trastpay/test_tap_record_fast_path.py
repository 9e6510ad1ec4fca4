"""Records written straight to the writer are the SDK's own RECORD messages, byte for byte but the time."""

from __future__ import annotations

import contextlib
import io
import json
from datetime import datetime
from typing import Any

import pytest

from tap_trastpay.streams import TrastpayStream
from tap_trastpay.tap import TapTrastpay

from .tap_harness import parse_messages

STREAMS = {"card_transactions", "transfers", "cards", "events"}


def _catalog(config: dict[str, Any], deselect: tuple[str, str] | None = None) -> dict[str, Any]:
    catalog = TapTrastpay(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in STREAMS
            if (
                deselect
                and entry["tap_stream_id"] == deselect[0]
                and item["breadcrumb"]
                == [
                    "properties",
                    deselect[1],
                ]
            ):
                item["metadata"]["selected"] = False
    return catalog


def _records(config: dict[str, Any], catalog: dict[str, Any]) -> list[dict[str, Any]]:
    buffer = io.StringIO()
    tap = TapTrastpay(config=config, catalog=catalog, parse_env_config=False)
    with contextlib.redirect_stdout(buffer):
        tap.sync_all()
    tap.session.close()
    return [m for m in parse_messages(buffer.getvalue()).messages if m["type"] == "RECORD"]


def _without_time(messages: list[dict[str, Any]]) -> list[str]:
    return [json.dumps({k: v for k, v in m.items() if k != "time_extracted"}) for m in messages]


def test_given_every_property_selected_when_syncing_then_direct_records_equal_the_sdk_path(
    tap_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _catalog(tap_config)
    direct = _records(tap_config, catalog)
    with monkeypatch.context() as patch:
        patch.setattr(TrastpayStream, "_records_pass_through", lambda self: False)
        through_sdk = _records(tap_config, catalog)
    assert len(direct) > 100
    # same records, same key order, same version: only the extraction instant may differ
    assert _without_time(direct) == _without_time(through_sdk)
    for message in (direct[0], through_sdk[0]):
        extracted = datetime.fromisoformat(message["time_extracted"])
        assert extracted.utcoffset() is not None
        assert extracted.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_given_a_deselected_property_when_syncing_then_it_is_dropped_by_the_sdk_path(
    tap_config: dict[str, Any],
) -> None:
    records = _records(tap_config, _catalog(tap_config, deselect=("transfers", "receiver_name")))
    transfers = [m["record"] for m in records if m["stream"] == "transfers"]
    assert transfers
    assert all("receiver_name" not in record for record in transfers)
    assert all("amount_minor" in record for record in transfers)


def test_given_a_stream_map_when_syncing_then_records_are_mapped_not_written_directly(
    tap_config: dict[str, Any],
) -> None:
    config = {**tap_config, "stream_maps": {"transfers": {"receiver_name": None}}}
    records = _records(config, _catalog(config))
    transfers = [m["record"] for m in records if m["stream"] == "transfers"]
    assert transfers
    assert all("receiver_name" not in record for record in transfers)
