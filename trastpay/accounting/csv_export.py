"""CSV: one row per booked entry between an opening-balance row and a closing-balance row.

Columns: ``row_type`` (opening_balance, entry, closing_balance), ``booked_at`` (RFC 3339,
Tashkent), ``reference``, ``transaction_id``, ``description``, ``debit``, ``credit``,
``commission``, ``amount`` (signed), ``amount_minor``, ``balance_after``, ``currency``. Decimal
text with a ``.`` mark, UTF-8 with a byte-order mark so spreadsheet programs read Cyrillic and
Uzbek Latin correctly.
"""

from __future__ import annotations

import csv
import io

from trastpay.accounting.statement import TASHKENT, Statement

COLUMNS = (
    "row_type",
    "booked_at",
    "reference",
    "transaction_id",
    "description",
    "debit",
    "credit",
    "commission",
    "amount",
    "amount_minor",
    "balance_after",
    "currency",
)


def render_csv(statement: Statement) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    money = statement.money
    currency = statement.currency
    opening = statement.opening_balance_minor
    writer.writerow(
        [
            "opening_balance",
            f"{statement.from_date.isoformat()}T00:00:00+05:00",
            "",
            "",
            "Opening balance",
            "",
            "",
            "",
            "",
            "",
            money(opening),
            currency,
        ]
    )
    balance = opening
    for line in statement.lines:
        balance += line.amount_minor
        writer.writerow(
            [
                "entry",
                line.booked_at.astimezone(TASHKENT).isoformat(),
                line.reference,
                line.transaction_id,
                line.description,
                money(-line.amount_minor) if line.amount_minor < 0 else "",
                money(line.amount_minor) if line.amount_minor > 0 else "",
                money(line.commission_minor),
                money(line.amount_minor),
                str(line.amount_minor),
                money(balance),
                currency,
            ]
        )
    writer.writerow(
        [
            "closing_balance",
            f"{statement.to_date.isoformat()}T23:59:59+05:00",
            "",
            "",
            "Closing balance",
            money(statement.debit_total_minor),
            money(statement.credit_total_minor),
            "",
            "",
            "",
            money(statement.closing_balance_minor),
            currency,
        ]
    )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
