"""Versioned records: an entity is the list of its states, one per transition.

The view at a clock value is the last state at or before it (none before creation); each state is
also one event. This keeps records, ``updated_at`` and the event log consistent by construction.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

from trastpay_sandbox.world.clock import fmt_ts

STREAM_CODES = {
    "card_transactions": "tx",
    "transfers": "tr",
    "microloans": "ml",
    "microloan_schedules": "ms",
    "microloan_repayments": "mr",
    "instalment_plans": "ip",
    "instalment_payments": "iq",
    "deposits": "dp",
    "deposit_operations": "do",
    "fx_conversions": "fx",
    "virtual_cards": "vc",
    "utility_payments": "up",
    "cashback_ledger": "cb",
}


@dataclass(frozen=True, slots=True)
class Version:
    """A record's state after one transition at ``at``; ``cursor`` is the epoch of its cursor field."""

    at: int
    record: dict[str, Any]
    cursor: int
    event_type: str
    event_data: dict[str, Any]


@dataclass(slots=True)
class Entity:
    stream: str
    pk: str
    parent: str | None
    versions: list[Version] = field(default_factory=list)
    _ats: list[int] = field(default_factory=list)

    def add(self, version: Version) -> None:
        if self._ats and version.at < self._ats[-1]:
            raise ValueError(f"{self.stream} {self.pk}: versions must be added in time order")
        self.versions.append(version)
        self._ats.append(version.at)

    def at(self, now: int) -> Version | None:
        index = bisect_right(self._ats, now)
        return self.versions[index - 1] if index else None

    @property
    def created_at(self) -> int:
        return self._ats[0]


def event_id(at: int, stream: str, pk: str, ordinal: int) -> str:
    """Ids sort in event order: the zero-padded instant leads."""
    return f"evt_{at:010d}_{STREAM_CODES.get(stream, stream)}_{pk}_{ordinal}"


def make_event(
    at: int, stream: str, pk: str, ordinal: int, event_type: str, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": event_id(at, stream, pk, ordinal),
        "occurred_at": fmt_ts(at),
        "type": event_type,
        "resource_type": stream,
        "resource_id": pk,
        "data": data,
    }


def entity_events(entity: Entity) -> list[tuple[int, str, dict[str, Any]]]:
    """``(at, event id, event)`` for every version of an entity."""
    out = []
    for ordinal, version in enumerate(entity.versions):
        event = make_event(
            version.at, entity.stream, entity.pk, ordinal, version.event_type, version.event_data
        )
        out.append((version.at, event["id"], event))
    return out
