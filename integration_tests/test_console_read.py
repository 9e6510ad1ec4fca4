"""`source-trastpay read` (our console entrypoint, with its own RECORD serialisation) matches the CDK.

The same full-refresh read runs once through the CDK's in-process entrypoint and once through
:func:`source_trastpay.run.run`; records must be equal, every line one JSON message, and each
STATE message must count the records emitted since the previous one (``sourceStats``). One
difference is deliberate: the CDK's serializer drops top-level ``null`` fields of a record, ours
writes them (``"closed_at": null``), which destinations read the same way.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (  # type: ignore[attr-defined]
    AirbyteMessage,
    AirbyteRecordMessage,
    AirbyteStateBlob,
    AirbyteStateMessage,
    AirbyteStateType,
    AirbyteStreamState,
    StreamDescriptor,
    SyncMode,
    Type,
)

from source_trastpay.run import message_line, run

from .acceptance import (
    CONFIGURED_CATALOG,
    EXPECTED_STREAMS,
    ConfigFactory,
    load_catalog,
    records_of,
    run_read,
)


def _without_nulls(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


def _catalog_file(tmp_path: Path) -> Path:
    document = json.loads(CONFIGURED_CATALOG.read_text(encoding="utf-8"))
    entries = [e for e in document["streams"] if e["stream"]["name"] in EXPECTED_STREAMS]
    for entry in entries:
        entry["sync_mode"] = SyncMode.full_refresh.value
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"streams": entries}), encoding="utf-8")
    return path


def test_given_same_read_when_run_from_console_then_records_equal_cdk_read_and_states_count_them(
    fresh_config: ConfigFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    through_cdk = sorted(
        json.dumps([stream, data], sort_keys=True)
        for stream, data in records_of(
            run_read(
                fresh_config(device_id="console-read-cdk"),
                load_catalog(EXPECTED_STREAMS, sync_mode=SyncMode.full_refresh),
            )
        )
    )
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(fresh_config(device_id="console-read-run")), encoding="utf-8")

    catalog_path = _catalog_file(tmp_path)
    working_dir = tmp_path / "cwd"
    working_dir.mkdir()
    monkeypatch.chdir(working_dir)

    run(["read", "--config", str(config_path), "--catalog", str(catalog_path)])

    assert list(working_dir.iterdir()) == []  # no copy of the config (and its token) left behind

    messages = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    records = [m["record"] for m in messages if m["type"] == "RECORD"]
    assert any(value is None for r in records for value in r["data"].values())  # nulls are written
    console = sorted(json.dumps([r["stream"], _without_nulls(r["data"])], sort_keys=True) for r in records)
    assert console == through_cdk
    since_state: Counter[str] = Counter()
    states = 0
    for message in messages:
        if message["type"] == "RECORD":
            since_state[message["record"]["stream"]] += 1
        elif message["type"] == "STATE":
            stream = message["state"]["stream"]["stream_descriptor"]["name"]
            assert message["state"]["sourceStats"]["recordCount"] == since_state.pop(stream, 0)
            states += 1
    assert states >= len(EXPECTED_STREAMS)
    assert not since_state  # every record is covered by a later state


@pytest.mark.parametrize(
    "data",
    [
        {"id": "trf_1", "amount_minor": 2**62 + 1, "note": "Toshkent ʻOʼzbekiston — 😀\u200f\n\x00"},
        {"id": "evt_1", "data": {"nested": [1, None, {"a": "b"}]}, "ok": True},
    ],
)
def test_given_record_when_serialised_then_line_equals_the_cdk_serialisation(data: dict[str, Any]) -> None:
    message = AirbyteMessage(
        type=Type.RECORD, record=AirbyteRecordMessage(stream="transfers", data=data, emitted_at=1764300000123)
    )
    assert message_line(message) == AirbyteEntrypoint.airbyte_message_to_string(message)


def test_given_record_with_top_level_null_when_serialised_then_null_is_kept_where_the_cdk_drops_it() -> None:
    data = {"id": "mln_1", "closed_at": None, "principal_minor": 2570000000}
    message = AirbyteMessage(
        type=Type.RECORD, record=AirbyteRecordMessage(stream="microloans", data=data, emitted_at=1)
    )
    ours = json.loads(message_line(message))
    cdk = json.loads(AirbyteEntrypoint.airbyte_message_to_string(message))
    assert ours["record"]["data"] == data
    assert cdk["record"]["data"] == _without_nulls(data)
    assert {**ours, "record": {**ours["record"], "data": _without_nulls(data)}} == cdk


def test_given_state_when_serialised_then_the_cdk_serialises_it() -> None:
    message = AirbyteMessage(
        type=Type.STATE,
        state=AirbyteStateMessage(
            type=AirbyteStateType.STREAM,
            stream=AirbyteStreamState(
                stream_descriptor=StreamDescriptor(name="transfers"),
                stream_state=AirbyteStateBlob({"cursor": "2026-11-01T00:00:00+05:00"}),
            ),
        ),
    )
    assert message_line(message) == AirbyteEntrypoint.airbyte_message_to_string(message)
