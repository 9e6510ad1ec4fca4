"""Render the generated parts of docs/streams.md from the code.

Two blocks per stream are generated, so the reference cannot drift from what the connectors do:

* ``<!-- BEGIN summary:<stream> -->`` ... ``<!-- END summary:<stream> -->``: primary key, cursor,
  sync modes, partitioning, scope, endpoint and change capture, from :data:`trastpay.streams.STREAMS`;
* ``<!-- BEGIN fields:<stream> -->`` ... ``<!-- END fields:<stream> -->``: one row per schema property
  (name, type, nullable, description), from :func:`trastpay.schemas.load_schema`, with the handling
  the core's record processor applies to that field (:func:`trastpay.records.classify_field`).

Where a schema property has no description, or only a shared fragment's generic one, the text comes
from :data:`FIELD_NOTES` below; the generic text is the last resort, an empty description never.

``python scripts/render_streams_reference.py --write`` rewrites the blocks; without ``--write`` it
checks them and exits 1 when docs/streams.md is stale (tests/test_docs_reference.py does the same).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from trastpay.records import MONEY, PAN, PII, classify_field  # noqa: E402
from trastpay.schemas import load_schema  # noqa: E402
from trastpay.streams import STREAMS, StreamDef  # noqa: E402

DOC_PATH = ROOT / "docs" / "streams.md"

GENERIC_DESCRIPTIONS = frozenset(
    {
        "Amount in minor units (int64).",
        "Amount in minor units (int64), null when not applicable.",
        "RFC 3339 timestamp with offset (Tashkent, +05:00).",
        'The same amount as a decimal string in major units, e.g. "152000.00".',
        "Card number masked to at most the first 6 and last 4 digits (PCI DSS).",
        "Opaque, stable token of a linked or virtual card; never the PAN.",
        "Card scheme.",
        "Counterparty bank short name.",
        "ISO 4217 alphabetic currency code.",
    }
)
"""Shared-fragment texts that say what a value is but not what it means in its stream."""

FIELD_NOTES: dict[tuple[str, str], str] = {
    ("*", "id"): "Stable identifier of the record (primary key).",
    ("*", "updated_at"): "Last change of the record; bumped by every status or amount change.",
    ("*", "created_at"): "When the record was created.",
    ("*", "currency"): "ISO 4217 alphabetic currency code of the amounts in this record.",
    ("*", "card_token"): "Card this record belongs to (token from the `cards` stream); never the PAN.",
    ("cards", "card_token"): "Opaque, stable token of the card (primary key); never the PAN.",
    ("cards", "pan_masked"): "Card number masked to at most the first 6 and last 4 digits.",
    ("cards", "balance_minor"): "Current card balance.",
    ("cards", "linked_at"): "When the card was linked to the Trastpay profile.",
    ("card_transactions", "card_token"): "Card of the operation (partition key; `cards.card_token`).",
    ("card_transactions", "rail"): "Card scheme of the card.",
    ("card_transactions", "counterparty_pan_masked"): "Counterparty card number masked to at most "
    "the first 6 and last 4 digits; null when there is no counterparty card.",
    ("statements", "card_token"): "Card of the statement (partition key; `cards.card_token`).",
    ("statements", "period_start"): "Start of the month, 00:00 Tashkent on the 1st (cursor).",
    ("statements", "opening_balance_minor"): "Balance at `period_start`.",
    ("statements", "closing_balance_minor"): "Balance at `period_end`; for the open month, the balance "
    "so far.",
    ("statements", "commission_total_minor"): "Commissions booked in the month (>= 0).",
    ("statements", "updated_at"): "Last change of the statement: `period_end` once final, else the "
    "latest entry booked.",
    ("transfers", "completed_at"): "When the transfer completed; null while processing and for "
    "failed transfers.",
    ("transfers", "sender_card_token"): "Sending card (token from the `cards` stream).",
    ("transfers", "sender_pan_masked"): "Sending card number masked to at most the first 6 and last 4 "
    "digits.",
    ("transfers", "sender_rail"): "Card scheme of the sending card.",
    ("transfers", "sender_bank"): "Issuing bank of the sending card.",
    ("transfers", "receiver_pan_masked"): "Receiving card number masked to at most the first 6 and "
    "last 4 digits.",
    ("transfers", "receiver_rail"): "Card scheme of the receiving card.",
    ("transfers", "receiver_bank"): "Issuing bank of the receiving card.",
    ("transfers", "commission_minor"): "Commission charged to the sender (0 within the free allowance and "
    "for a failed transfer).",
    ("microloans", "applied_at"): "When the application was submitted.",
    ("microloans", "requested_amount_minor"): "Amount applied for.",
    ("microloans", "decided_at"): "When the application was approved or rejected; null until decided.",
    ("microloans", "disbursed_at"): "When the principal was paid out; null until disbursed.",
    ("microloans", "disbursement_card_token"): "Card the principal was paid out to; null until disbursed.",
    ("microloans", "outstanding_principal_minor"): "Principal still to repay; null before disbursement.",
    ("microloans", "closed_at"): "When the loan was repaid in full; null while open.",
    ("microloan_schedules", "loan_id"): "Loan of the instalment (`microloans.id`; partition key).",
    ("microloan_schedules", "due_date"): "Due date of the instalment (calendar date in Tashkent).",
    ("microloan_schedules", "principal_minor"): "Principal part of the instalment.",
    ("microloan_schedules", "interest_minor"): "Interest part of the instalment.",
    ("microloan_schedules", "total_minor"): "Amount due: principal plus interest.",
    ("microloan_schedules", "paid_at"): "When the instalment was paid; null until paid.",
    ("microloan_repayments", "loan_id"): "Loan repaid (`microloans.id`; partition key).",
    ("microloan_repayments", "paid_at"): "When the repayment was made (cursor).",
    ("microloan_repayments", "amount_minor"): "Amount repaid.",
    ("microloan_repayments", "principal_minor"): "Principal part of the repayment.",
    ("microloan_repayments", "interest_minor"): "Interest part of the repayment.",
    ("microloan_repayments", "card_token"): "Card the repayment was debited from.",
    ("instalment_plans", "term_months"): "Plan term in months.",
    ("instalment_plans", "purchase_amount_minor"): "Price of the purchase financed.",
    ("instalment_plans", "markup_minor"): "Markup charged by the provider.",
    ("instalment_plans", "total_minor"): "Amount to repay: purchase plus markup.",
    ("instalment_plans", "card_token"): "Card the instalments are debited from.",
    ("instalment_plans", "next_due_date"): "Due date of the next unpaid instalment; null when none is left.",
    ("instalment_plans", "paid_minor"): "Amount repaid so far.",
    ("instalment_payments", "plan_id"): "Plan of the instalment (`instalment_plans.id`; partition key).",
    ("instalment_payments", "due_date"): "Due date of the instalment (calendar date in Tashkent).",
    ("instalment_payments", "amount_minor"): "Amount due.",
    ("instalment_payments", "paid_at"): "When the instalment was paid; null until paid.",
    ("deposits", "opened_at"): "When the deposit was opened.",
    ("deposits", "maturity_date"): "Date the deposit term ends.",
    ("deposits", "annual_rate"): 'Annual interest rate in percent, as a decimal string, e.g. "21.00".',
    ("deposits", "minimum_balance_minor"): "Balance the deposit must keep (partial withdrawals stop there).",
    ("deposits", "balance_minor"): "Current balance.",
    ("deposits", "interest_paid_minor"): "Interest paid out so far.",
    ("deposits", "account_number"): "20-digit account number of the deposit.",
    ("deposit_operations", "deposit_id"): "Deposit of the operation (`deposits.id`; partition key).",
    ("deposit_operations", "occurred_at"): "When the operation was booked (cursor).",
    ("deposit_operations", "balance_after_minor"): "Deposit balance after this operation.",
    ("fx_conversions", "occurred_at"): "When the conversion happened (cursor).",
    ("fx_conversions", "base_currency"): "Base currency of the quoted rate.",
    ("fx_conversions", "quote_currency"): "Quote currency of the rate (units per one base unit).",
    ("fx_conversions", "sell_amount_minor"): "Amount the customer gave, in `sell_currency`.",
    ("fx_conversions", "sell_currency"): "Currency the customer gave.",
    ("fx_conversions", "buy_amount_minor"): "Amount the customer received, in `buy_currency`.",
    ("fx_conversions", "buy_currency"): "Currency the customer received.",
    ("fx_conversions", "from_card_token"): "Card debited.",
    ("fx_conversions", "to_card_token"): "Own card credited for an in-app conversion; null for a "
    "payment abroad.",
    ("fx_conversions", "merchant_country"): "ISO 3166-1 alpha-2 country of the merchant for a payment "
    "abroad; null otherwise.",
    ("virtual_cards", "card_token"): "Opaque, stable token of the virtual card (primary key); never the PAN.",
    ("virtual_cards", "rail"): "Card scheme of the virtual card.",
    ("virtual_cards", "pan_masked"): "Card number masked to at most the first 6 and last 4 digits.",
    ("virtual_cards", "created_at"): "When the virtual card was issued.",
    ("virtual_cards", "expiry_month"): "Card expiry as YYYY-MM.",
    ("virtual_cards", "daily_limit_minor"): "Spending limit per day.",
    ("virtual_cards", "monthly_limit_minor"): "Spending limit per month.",
    ("utility_payments", "period"): "Billing month paid for, YYYY-MM.",
    ("utility_payments", "amount_minor"): "Amount paid to the provider.",
    ("utility_payments", "card_token"): "Card the payment was debited from.",
    ("cashback_ledger", "occurred_at"): "When the entry was booked (cursor).",
    ("cashback_ledger", "source_transaction_id"): "The card operation (`card_transactions.id`) the "
    "entry accrues on or reverses.",
    ("cashback_ledger", "base_amount_minor"): "Eligible amount of the card operation the rate applies to.",
    ("cashback_ledger", "card_token"): "Card of the source operation.",
    ("events", "occurred_at"): "When the change happened (cursor).",
}
"""Descriptions for properties whose schema says nothing, or only a fragment's generic text."""


class FieldRow(NamedTuple):
    """One documented property of a stream."""

    name: str
    type: str
    nullable: bool
    description: str


def _types(prop: Mapping[str, Any]) -> list[str]:
    declared = prop.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        return [t for t in declared if isinstance(t, str)]
    return []


def _type_label(name: str, prop: Mapping[str, Any], properties: Mapping[str, Any]) -> str:
    kinds = [t for t in _types(prop) if t != "null"] or ["any"]
    label = " or ".join(kinds)
    fmt = prop.get("format")
    if isinstance(fmt, str):
        return f"{label} ({fmt})"
    if kinds == ["integer"] and classify_field(name) == MONEY:
        return "integer (int64, minor units)"
    if kinds == ["string"] and f"{name}_minor" in properties:
        return "string (decimal)"
    return label


def _base_description(stream: str, name: str, prop: Mapping[str, Any], properties: Mapping[str, Any]) -> str:
    declared = " ".join(str(prop.get("description", "")).split())
    specific = declared and declared not in GENERIC_DESCRIPTIONS
    if specific:
        return declared
    note = FIELD_NOTES.get((stream, name)) or FIELD_NOTES.get(("*", name))
    if note:
        return note
    if f"{name}_minor" in properties:
        return f"`{name}_minor` as a decimal string in major units, e.g. `152000.00`."
    return declared


def _handling(stream: StreamDef, name: str, prop: Mapping[str, Any]) -> str:
    """What the core's record processor does to this field before it leaves the connector."""
    if name in stream.primary_key:
        return ""
    kind = classify_field(name)
    if kind == PAN:
        return "The connector re-masks any longer value to 6 + 4."
    if kind == PII:
        if "pii_mode" in str(prop.get("description", "")):
            return ""
        return "Personal data: kept, HMAC-hashed or nulled per `pii_mode`."
    if "object" in _types(prop) or "array" in _types(prop):
        return "Nested: card numbers masked, personal data per `pii_mode`, money checked, recursively."
    return ""


def _enum_suffix(prop: Mapping[str, Any]) -> str:
    values = [v for v in prop.get("enum", []) if v is not None]
    if not values:
        return ""
    return "One of " + ", ".join(f"`{v}`" for v in values) + "."


def field_rows(stream: StreamDef) -> list[FieldRow]:
    """Every property of the stream's resolved schema, in schema order."""
    properties: dict[str, Any] = load_schema(stream.name).get("properties", {})
    rows = []
    for name, prop in properties.items():
        parts = [
            _base_description(stream.name, name, prop, properties),
            _enum_suffix(prop),
            _handling(stream, name, prop),
        ]
        description = " ".join(part for part in parts if part).replace("|", "\\|")
        rows.append(FieldRow(name, _type_label(name, prop, properties), "null" in _types(prop), description))
    return rows


def fields_table(stream: StreamDef) -> str:
    lines = ["| field | type | nullable | description |", "|---|---|---|---|"]
    for row in field_rows(stream):
        lines.append(f"| `{row.name}` | {row.type} | {'yes' if row.nullable else 'no'} | {row.description} |")
    return "\n".join(lines)


def _code_list(names: Sequence[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def summary_table(stream: StreamDef) -> str:
    """What one record is (schema description), then keys, cursor, modes, parent, endpoint, scope and
    change capture from the stream's StreamDef."""
    endpoint = stream.path.replace("{parent_id}", f"{{{stream.partition_field}}}")
    parent = (
        f"per `{stream.parent}` record: `{stream.partition_field}` = `{stream.parent}.{stream.parent_key}`"
        if stream.parent
        else "none (one state for the whole stream)"
    )
    if stream.incremental:
        modes = f"full refresh, incremental (re-reads {_reread_text(stream)} before the saved cursor)"
    else:
        modes = "full refresh only"
    described = " ".join(str(load_schema(stream.name).get("description", "")).split())
    rows = [
        ("record", described.replace("|", "\\|")),
        ("primary key", _code_list(stream.primary_key)),
        ("cursor", f"`{stream.cursor_field}`" if stream.cursor_field else "none"),
        ("sync modes", modes),
        ("partitioned", parent),
        ("endpoint", f"`{stream.method} {endpoint}`"),
        ("scope", f"`{stream.scope}`"),
        ("changes", stream.changes),
    ]
    lines = ["| | |", "|---|---|"]
    lines.extend(f"| {label} | {value} |" for label, value in rows)
    return "\n".join(lines)


BLOCK_KINDS: dict[str, Callable[[StreamDef], str]] = {"summary": summary_table, "fields": fields_table}


def _reread_text(stream: StreamDef) -> str:
    if stream.settles:
        return "`lookback_days` + `settlement_lag_days`"
    if stream.reread_days:
        return f"`lookback_days` + {stream.reread_days} day{'s' if stream.reread_days > 1 else ''}"
    return "`lookback_days`"


def reread_table() -> str:
    """Per incremental stream: how records can appear behind its cursor and what covers it by default."""
    lines = [
        "| stream | cursor | re-read before the saved cursor (default) | why |",
        "|---|---|---|---|",
    ]
    for stream in STREAMS:
        if not stream.incremental:
            continue
        why = stream.reread_why or "A change moves the cursor forward; publishing lag: `complete_until`."
        lines.append(f"| `{stream.name}` | `{stream.cursor_field}` | {_reread_text(stream)} | {why} |")
    return "\n".join(lines)


def _replace_block(text: str, tag: str, body: str) -> str:
    pattern = re.compile(
        rf"(<!-- BEGIN {re.escape(tag)} -->\n)(?:.*?\n)?(<!-- END {re.escape(tag)} -->)", re.S
    )

    def rebuilt(match: re.Match[str]) -> str:
        return match.group(1) + body + "\n" + match.group(2)

    return pattern.sub(rebuilt, text)


def render(text: str) -> str:
    """``text`` with every known generated block rebuilt from the code (unknown blocks untouched)."""
    for stream in STREAMS:
        for kind, build in BLOCK_KINDS.items():
            text = _replace_block(text, f"{kind}:{stream.name}", build(stream))
    return _replace_block(text, "reread", reread_table())


def missing_blocks(text: str) -> list[str]:
    """The ``kind:stream`` markers a complete reference needs but ``text`` lacks."""
    return [
        f"{kind}:{stream.name}"
        for stream in STREAMS
        for kind in BLOCK_KINDS
        if f"<!-- BEGIN {kind}:{stream.name} -->" not in text
        or f"<!-- END {kind}:{stream.name} -->" not in text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render or check the generated parts of docs/streams.md.")
    parser.add_argument("--write", action="store_true", help="rewrite docs/streams.md in place")
    args = parser.parse_args(argv)
    current = DOC_PATH.read_text(encoding="utf-8")
    missing = missing_blocks(current)
    if missing:
        print(f"docs/streams.md lacks the markers of: {', '.join(missing)}")
        return 1
    rendered = render(current)
    if args.write:
        if rendered != current:
            DOC_PATH.write_text(rendered, encoding="utf-8")
        return 0
    if rendered != current:
        print("docs/streams.md is out of date: run python scripts/render_streams_reference.py --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
