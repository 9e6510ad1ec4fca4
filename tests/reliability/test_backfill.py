"""A bounded backfill through the real connectors: one window re-read, the state passed through.

After a regular sync, a run with ``backfill`` re-reads one month of chosen streams and cards. It
must emit exactly the truth's records of that window (what a destination needs to fill a hole),
nothing of the other streams, and STATE messages that are byte for byte the incoming state, so the
next regular sync continues as if the backfill never ran. ``sync_audit`` of every run must count
exactly what the run emitted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from trastpay.completeness import WHOLE_STREAM
from trastpay.cursors import parse_instant
from trastpay.streams import get_stream
from trastpay_sandbox.testing import SandboxServer

from .harness import Connector, RunResult, connectors_in_ci, report, run_connector

STREAMS = ("card_transactions", "statements", "transfers", "events", "sync_audit")
WINDOW = ("2026-09-01", "2026-10-01")


@pytest.fixture(scope="module")
def backfill_sandbox() -> Iterator[SandboxServer]:
    """One customer, about four months of history (the window lies inside it)."""
    with SandboxServer(customers=1, history_days=120, seed=81) as server:
        yield server


def _incoming_per_stream(connector: Connector, state: Any) -> dict[str, bytes]:
    """The incoming state as the bytes each STATE message must repeat (Airbyte: per stream)."""
    if connector == "airbyte":
        return {
            m["stream"]["stream_descriptor"]["name"]: orjson.dumps(m["stream"].get("stream_state") or {})
            for m in state
        }
    return {"": orjson.dumps(state)}


def _emitted_states(result: RunResult) -> list[tuple[str, bytes]]:
    out = []
    for message in result.messages:
        if message.get("type") != "STATE":
            continue
        if result.connector == "airbyte":
            stream_state = message["state"]["stream"]
            name = stream_state["stream_descriptor"]["name"]
            out.append((name, orjson.dumps(stream_state.get("stream_state") or {})))
        else:
            out.append(("", orjson.dumps(message["value"])))
    return out


def audit_counts(result: RunResult) -> Counter[tuple[str, str]]:
    """``records_emitted`` per (stream, partition) as ``sync_audit`` reported them."""
    return Counter(
        {(r["stream"], r["partition"]): r["records_emitted"] for r in result.records.get("sync_audit", [])}
    )


def emitted_counts(result: RunResult) -> Counter[tuple[str, str]]:
    """Records per (stream, partition) the run actually emitted (sync_audit itself left out)."""
    counts: Counter[tuple[str, str]] = Counter()
    for stream, records in result.records.items():
        if stream == "sync_audit":
            continue
        field = get_stream(stream).partition_field
        for record in records:
            counts[(stream, str(record.get(field)) if field else WHOLE_STREAM)] += 1
    return counts


@pytest.mark.parametrize("connector", connectors_in_ci("airbyte"))
def test_given_a_regular_sync_when_one_month_is_backfilled_then_state_is_unchanged_and_the_month_is_complete(
    backfill_sandbox: SandboxServer, connector: Connector, tmp_path: Path
) -> None:
    workdir = tmp_path / connector
    regular = run_connector(connector, backfill_sandbox, workdir, streams=STREAMS)
    assert regular.ok, regular.output_text[-3000:]
    phone = regular.phone
    assert phone is not None
    cards = [c["card_token"] for c in backfill_sandbox.truth("cards", phone)]
    chosen = cards[:1]
    backfill = {
        "start_date": WINDOW[0],
        "end_date": WINDOW[1],
        "streams": ["card_transactions", "events"],
        "card_tokens": chosen,
    }
    filled = run_connector(
        connector,
        backfill_sandbox,
        workdir,
        streams=STREAMS,
        state=regular.final_state,
        config_overrides={"backfill": backfill},
    )
    assert filled.ok, filled.output_text[-3000:]

    incoming = _incoming_per_stream(connector, regular.final_state)
    emitted = _emitted_states(filled)
    changed = [(name, body) for name, body in emitted if body != incoming.get(name, b"{}")]
    start, end = parse_instant(WINDOW[0]), parse_instant(WINDOW[1])

    def in_window(stream: str, record: dict[str, Any]) -> bool:
        cursor = get_stream(stream).cursor_field
        assert cursor is not None
        return start <= parse_instant(str(record[cursor])) < end

    want_tx = {
        r["id"]
        for r in backfill_sandbox.truth("card_transactions", phone)
        if r["card_token"] in chosen and in_window("card_transactions", r)
    }
    want_events = {r["id"] for r in backfill_sandbox.truth("events", phone) if in_window("events", r)}
    got_tx = [r["id"] for r in filled.records.get("card_transactions", [])]
    got_events = [r["id"] for r in filled.records.get("events", [])]
    others = {s: filled.count(s) for s in ("statements", "transfers")}
    audit_ok = all(audit_counts(run) == emitted_counts(run) for run in (regular, filled))
    passed = (
        bool(emitted)
        and not changed
        and set(got_tx) == want_tx
        and len(got_tx) == len(want_tx)
        and set(got_events) == want_events
        and not any(others.values())
        and audit_ok
    )
    report(
        "backfill of one month (1 card, 2 streams)",
        connector,
        2,
        passed,
        f"{len(emitted)} STATE messages, {len(changed)} differ from the incoming state; "
        f"card operations {len(got_tx)}/{len(want_tx)}, events {len(got_events)}/{len(want_events)}, "
        f"other streams {others}; sync_audit counts match: {audit_ok}",
    )
    assert emitted, "the backfill emitted no STATE message"
    assert not changed, changed[:2]
    assert want_tx, "the window holds no card operation: the case proves nothing"
    assert want_events, "the window holds no event: the case proves nothing"
    assert sorted(got_tx) == sorted(want_tx)
    assert sorted(got_events) == sorted(want_events)
    assert others == {"statements": 0, "transfers": 0}
    assert audit_counts(regular) == emitted_counts(regular)
    assert audit_counts(filled) == emitted_counts(filled)
    checks = [r for r in regular.records["sync_audit"] if r["stream"] == "statements"]
    assert any(r["check"] == "ok" for r in checks), "no final month was compared with the card operations"
    assert all(r["check"] != "mismatch" for r in checks), [r["check_detail"] for r in checks]
    modes = {r["mode"] for r in filled.records["sync_audit"]}
    assert modes == {"backfill"}, modes
