"""Every Trastpay stream as data: endpoint, keys, cursor, parent, scope, and how it captures change.

The adapters build their SDK stream classes from :data:`STREAMS`; nothing here knows about an SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RequestStyle = Literal["full", "list", "statement", "audit"]


@dataclass(frozen=True, slots=True)
class StreamDef:
    """One stream of the connector.

    ``path`` may hold ``{parent_id}``, filled from ``parent_key`` of each parent record.
    ``request_style``: ``full`` = one GET listing everything; ``list`` = the keyset-paginated
    list shape with ``since``/``until``/``page_token``; ``statement`` = ``POST /statement`` with
    ``from``/``to`` and integer pages.
    ``settles`` marks streams whose records change for a while after their cursor value
    (card holds): their reads start ``lookback_days + settlement_lag_days`` before the saved
    cursor. Other incremental streams start ``lookback_days + reread_days`` before it:
    ``reread_days`` is the stream's own default re-read window, for records that can appear
    behind the cursor even though the API's ``complete_until`` watermark said the list was final
    (``reread_why`` says how; docs/streams.md lists both). ``audit`` is the connector's own
    ``sync_audit`` stream, produced by the session rather than read from the API.
    """

    name: str
    path: str
    primary_key: tuple[str, ...]
    cursor_field: str | None
    scope: str
    request_style: RequestStyle
    changes: str
    parent: str | None = None
    parent_key: str | None = None
    partition_field: str | None = None
    settles: bool = False
    method: Literal["GET", "POST"] = "GET"
    reread_days: int = 0
    reread_why: str = ""

    @property
    def incremental(self) -> bool:
        return self.cursor_field is not None

    @property
    def full_refresh_replaces(self) -> bool:
        """A full read is the whole table, so rows it no longer holds are gone (a target may drop them).

        Not for ``sync_audit``: each sync appends its own report; earlier syncs' rows must stay.
        """
        return not self.incremental and self.request_style != "audit"

    @property
    def partitioned(self) -> bool:
        return self.parent is not None


STREAMS: tuple[StreamDef, ...] = (
    StreamDef(
        name="cards",
        path="/cards",
        primary_key=("card_token",),
        cursor_field=None,
        scope="cards:read",
        request_style="full",
        changes="Full refresh: a small list whose status and balance change; every sync reads all of it.",
    ),
    StreamDef(
        name="card_transactions",
        path="/statement",
        primary_key=("id",),
        cursor_field="occurred_at",
        scope="statements:read",
        request_style="statement",
        method="POST",
        parent="cards",
        parent_key="card_token",
        partition_field="card_token",
        settles=True,
        reread_why="Holds post or reverse up to days after occurred_at, which does not move: "
        "settlement_lag_days re-reads them.",
        changes="Incremental on occurred_at per card; each read starts lookback_days + "
        "settlement_lag_days before the saved cursor so holds that post or reverse within the "
        "settlement window are emitted again.",
    ),
    StreamDef(
        name="statements",
        path="/cards/{parent_id}/statements",
        primary_key=("card_token", "month"),
        cursor_field="period_start",
        scope="statements:read",
        request_style="list",
        parent="cards",
        parent_key="card_token",
        partition_field="card_token",
        changes="Incremental on period_start per card, inclusive: the last (open) month is read again "
        "until it is final.",
    ),
    StreamDef(
        name="transfers",
        path="/transfers",
        primary_key=("id",),
        cursor_field="updated_at",
        scope="transfers:read",
        request_style="list",
        changes="Incremental on updated_at: status changes (processing -> completed/failed) bump it.",
    ),
    StreamDef(
        name="microloans",
        path="/microloan",
        primary_key=("id",),
        cursor_field="updated_at",
        scope="microloan:read",
        request_style="list",
        changes="Incremental on updated_at: decision, disbursement, repayments and closure bump it.",
    ),
    StreamDef(
        name="microloan_schedules",
        path="/microloan/{parent_id}/schedule",
        primary_key=("loan_id", "instalment_number"),
        cursor_field="updated_at",
        scope="microloan:read",
        request_style="list",
        parent="microloans",
        parent_key="id",
        partition_field="loan_id",
        changes="Incremental on updated_at per loan: an instalment is paid or falls overdue.",
    ),
    StreamDef(
        name="microloan_repayments",
        path="/microloan/{parent_id}/repayments",
        primary_key=("id",),
        cursor_field="paid_at",
        scope="microloan:read",
        request_style="list",
        parent="microloans",
        parent_key="id",
        partition_field="loan_id",
        changes="Append-only per loan, incremental on paid_at.",
    ),
    StreamDef(
        name="instalment_plans",
        path="/instalments",
        primary_key=("id",),
        cursor_field="updated_at",
        scope="instalments:read",
        request_style="list",
        changes="Incremental on updated_at: payments and status changes bump it.",
    ),
    StreamDef(
        name="instalment_payments",
        path="/instalments/{parent_id}/payments",
        primary_key=("id",),
        cursor_field="updated_at",
        scope="instalments:read",
        request_style="list",
        parent="instalment_plans",
        parent_key="id",
        partition_field="plan_id",
        changes="Incremental on updated_at per plan: an instalment is paid or falls overdue.",
    ),
    StreamDef(
        name="deposits",
        path="/deposits",
        primary_key=("id",),
        cursor_field="updated_at",
        scope="deposits:read",
        request_style="list",
        changes="Incremental on updated_at: every operation (interest, top-up, write-off) bumps it.",
    ),
    StreamDef(
        name="deposit_operations",
        path="/deposits/{parent_id}/operations",
        primary_key=("id",),
        cursor_field="occurred_at",
        scope="deposits:read",
        request_style="list",
        parent="deposits",
        parent_key="id",
        partition_field="deposit_id",
        changes="Append-only per deposit, incremental on occurred_at.",
    ),
    StreamDef(
        name="fx_conversions",
        path="/fx/conversions",
        primary_key=("id",),
        cursor_field="occurred_at",
        scope="fx:read",
        request_style="list",
        changes="Append-only, incremental on occurred_at.",
    ),
    StreamDef(
        name="virtual_cards",
        path="/virtual-cards",
        primary_key=("card_token",),
        cursor_field="updated_at",
        scope="virtual_cards:read",
        request_style="list",
        changes="Incremental on updated_at: freezes, closures and limit changes bump it.",
    ),
    StreamDef(
        name="utility_payments",
        path="/myhome/payments",
        primary_key=("id",),
        cursor_field="updated_at",
        scope="payments:read",
        request_style="list",
        changes="Incremental on updated_at: processing -> paid/failed bumps it.",
    ),
    StreamDef(
        name="cashback_ledger",
        path="/cashback/ledger",
        primary_key=("id",),
        cursor_field="occurred_at",
        scope="cashback:read",
        request_style="list",
        changes="Append-only ledger (a reversal is a new entry), incremental on occurred_at.",
    ),
    StreamDef(
        name="events",
        path="/events",
        primary_key=("id",),
        cursor_field="occurred_at",
        scope="events:read",
        request_style="list",
        reread_days=1,
        reread_why="Events are published by the systems that made the change, some of them late; "
        "complete_until covers the announced lag, one day more covers a publisher that misses it.",
        changes="Append-only log of every change of every record, incremental on occurred_at.",
    ),
)
"""The API's streams, in the order a sync reads them."""

SYNC_AUDIT = StreamDef(
    name="sync_audit",
    path="",
    primary_key=("sync_id", "stream", "partition"),
    cursor_field=None,
    scope="",
    request_style="audit",
    changes="Written by the connector: one record per stream and partition read in the sync (window, "
    "records, pages, retries, late records, expected totals and the check's verdict). Append.",
)
"""The connector's completeness report, read after every API stream (see trastpay.completeness)."""

EMITTED_STREAMS: tuple[StreamDef, ...] = (*STREAMS, SYNC_AUDIT)
"""Every stream the adapters offer: the API's, then sync_audit last (it reports on the others)."""

STREAMS_BY_NAME: dict[str, StreamDef] = {s.name: s for s in STREAMS}
EMITTED_BY_NAME: dict[str, StreamDef] = {s.name: s for s in EMITTED_STREAMS}


def get_stream(name: str) -> StreamDef:
    try:
        return EMITTED_BY_NAME[name]
    except KeyError:
        raise KeyError(f"Unknown stream '{name}'. Known: {', '.join(EMITTED_BY_NAME)}") from None
