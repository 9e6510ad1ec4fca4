"""Accounting exports of a card statement: 1C, OFX / QBO, camt.053, MT940 and CSV.

Pure Python (no connector SDK): build a :class:`Statement` from the API's JSON statement export
or from dbt ledger rows, then :func:`export_statement` writes the file an accounting system
imports. Every writer refuses a statement whose entries do not lead from the opening to the
closing balance.

    statement = statement_from_export(orjson.loads(json_bytes))
    data = export_statement(statement, "camt053")
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import orjson

from trastpay.accounting.camt053 import render_camt053
from trastpay.accounting.csv_export import render_csv
from trastpay.accounting.mt940 import render_mt940
from trastpay.accounting.ofx import render_ofx, render_qbo
from trastpay.accounting.onec import render_1c
from trastpay.accounting.statement import (
    Statement,
    StatementAccount,
    StatementError,
    StatementLine,
    statement_from_export,
    statement_from_ledger,
)

AccountingFormat = Literal["1c", "ofx", "qbo", "camt053", "mt940", "csv"]
ACCOUNTING_FORMATS: tuple[AccountingFormat, ...] = ("1c", "ofx", "qbo", "camt053", "mt940", "csv")
FILE_SUFFIXES: dict[str, str] = {
    "1c": ".txt",
    "ofx": ".ofx",
    "qbo": ".qbo",
    "camt053": ".xml",
    "mt940": ".sta",
    "csv": ".csv",
}


def export_from_api(document: bytes, fmt: str, *, created_at: datetime | None = None) -> bytes:
    """The API's JSON statement export (``GET /cards/{card_token}/statement/export?format=json``)
    converted to ``fmt``; StatementError names what is wrong with the document."""
    try:
        parsed = orjson.loads(document)
    except orjson.JSONDecodeError:
        raise StatementError("the statement export is not JSON") from None
    if not isinstance(parsed, dict):
        raise StatementError("the statement export is not a JSON object")
    return export_statement(statement_from_export(parsed), fmt, created_at=created_at)


def export_statement(statement: Statement, fmt: str, *, created_at: datetime | None = None) -> bytes:
    """The bytes of ``statement`` in ``fmt``; ``created_at`` (default: now) stamps the file header."""
    stamp = created_at or datetime.now(UTC)
    if fmt == "1c":
        return render_1c(statement, created_at=stamp)
    if fmt == "ofx":
        return render_ofx(statement, created_at=stamp)
    if fmt == "qbo":
        return render_qbo(statement, created_at=stamp)
    if fmt == "camt053":
        return render_camt053(statement, created_at=stamp)
    if fmt == "mt940":
        return render_mt940(statement)
    if fmt == "csv":
        return render_csv(statement)
    raise StatementError(
        f"unknown accounting format {fmt!r}; expected one of {', '.join(ACCOUNTING_FORMATS)}"
    )


__all__ = [
    "ACCOUNTING_FORMATS",
    "FILE_SUFFIXES",
    "AccountingFormat",
    "Statement",
    "StatementAccount",
    "StatementError",
    "StatementLine",
    "export_from_api",
    "export_statement",
    "statement_from_export",
    "statement_from_ledger",
]
