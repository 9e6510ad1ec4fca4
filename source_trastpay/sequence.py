"""What one stream of a ``read`` hands to the platform, in order, without airbyte-cdk.

Both ``read`` paths (the CDK stream, :mod:`source_trastpay.streams`, and the direct path,
:mod:`source_trastpay.native_read`) turn the same sequence into messages: pages of records (each a
list, as :meth:`~trastpay.session.TrastpaySession.read_pages` hands them over) and
:class:`Snapshot`\\ s (the stream state to write as a STATE message once the records before it are
written). The rules live here once:

* the core decides when a checkpoint is safe (after each page, never past a record not yet
  handed over); a snapshot is written when the state changed or the core forces one;
* a stream without a cursor checkpoints the CDK's "full refresh done" marker;
* a stream that wrote no checkpoint writes its state once at the end;
* in a backfill every STATE is the incoming state, exactly as it came (and a stream that came
  without state gets none).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from trastpay.session import Checkpoint, TrastpaySession
from trastpay.state import StreamState
from trastpay.streams import StreamDef

__all__ = ["FULL_REFRESH_STATE", "NO_CURSOR_STATE_KEY", "Snapshot", "parse_stream_state", "stream_sequence"]

NO_CURSOR_STATE_KEY = "__ab_no_cursor_state_message"
"""airbyte-cdk's key for "full refresh done" (``tests/source_trastpay/test_source_compat.py`` checks it)."""

FULL_REFRESH_STATE: dict[str, Any] = {NO_CURSOR_STATE_KEY: True}
"""What a stream without a cursor checkpoints: the CDK's own marker for "full refresh done"."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stream state to write as a STATE message now (every record before it is already handed over)."""

    state: dict[str, Any]


def parse_stream_state(
    definition: StreamDef, raw: Mapping[str, Any] | None, incremental: bool
) -> StreamState:
    """The saved state of a stream as the core reads it: ignored in full-refresh mode (a
    :class:`~trastpay.errors.StateError` names the stream and key when it is malformed)."""
    stored = raw if incremental and definition.incremental else None
    return StreamState.parse(definition, stored or None)


def _snapshot(definition: StreamDef, state: StreamState) -> dict[str, Any]:
    return state.to_dict() if definition.incremental else FULL_REFRESH_STATE


def stream_sequence(
    session: TrastpaySession,
    definition: StreamDef,
    state: StreamState,
    incremental: bool,
    incoming: dict[str, Any],
) -> Iterator[list[dict[str, Any]] | Snapshot]:
    """Pages of records and snapshots of one stream, in the order they must be written.

    ``state`` is the parsed saved state (advanced in place), ``incoming`` the stored blob as it
    came (what a backfill passes through). In full-refresh mode every partition starts at
    start_date but the state reached is still checkpointed, so a later incremental sync can pick
    up from it. Errors of the core propagate as they are.
    """
    last_emitted: dict[str, Any] | None = None
    frozen = incoming if session.passes_state_through else None
    plan = [
        (partition, state.cursor_for(partition.key) if incremental else None)
        for partition in session.partitions(definition)
    ]
    session.read_ahead(definition, plan)
    for partition, cursor in plan:
        key = partition.key
        for item in session.read_pages(definition, partition, cursor):
            if type(item) is list:
                yield item
                continue
            assert isinstance(item, Checkpoint)
            if frozen is not None:
                if item.forced and frozen:
                    last_emitted = frozen
                    yield Snapshot(frozen)
                continue
            state.advance(key, item.cursor)
            snapshot = _snapshot(definition, state)
            # also unchanged when the core forces it (see trastpay.session.Checkpoint)
            if snapshot != last_emitted or item.forced:
                last_emitted = snapshot
                yield Snapshot(snapshot)
    if frozen is not None:
        if frozen:
            yield Snapshot(frozen)
    elif last_emitted is None:
        yield Snapshot(_snapshot(definition, state))
