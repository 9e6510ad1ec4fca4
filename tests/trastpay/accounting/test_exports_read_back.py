"""Every accounting export of a real sandbox statement, read back by an independent parser: same
entries (date and signed amount, to the tiyin) and the same opening and closing balances."""

from __future__ import annotations

import csv
import io
import json
import warnings
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import mt940
import pytest
from ofxtools.Parser import OFXTree
from pycamt.parser import Camt053Parser

from trastpay.accounting import (
    ACCOUNTING_FORMATS,
    StatementAccount,
    StatementError,
    StatementLine,
    export_from_api,
    export_statement,
    statement_from_export,
)
from trastpay.accounting.statement import TASHKENT, Statement
from trastpay_sandbox.testing import API_PATH, SandboxServer

from .onec_reader import read_1c

CREATED = datetime(2026, 10, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def exports() -> list[dict[str, Any]]:
    """The JSON statement export of every card of one customer for September 2026 (as the API answers)."""
    with SandboxServer(customers=1, history_days=120, seed=42) as sandbox:
        customer = sandbox.customers()[0]
        tokens = sandbox.login(customer["phone"], device_id="accounting-test")
        headers = {"Authorization": f"Bearer {tokens['access_token']}", "X-Device-Id": "accounting-test"}
        documents = []
        for card in customer["cards"]:
            status, body = sandbox.request(
                "GET",
                f"{API_PATH}/cards/{card['card_token']}/statement/export?from=2026-09-01&to=2026-09-30&format=json",
                headers=headers,
            )
            assert status == 200, body[:300]
            documents.append(json.loads(body))
    assert any(document["entries"] for document in documents)
    return documents


def _expected(document: dict[str, Any]) -> tuple[int, int, list[tuple[date, int]]]:
    entries = [
        (datetime.fromisoformat(e["booked_at"]).astimezone(TASHKENT).date(), int(e["amount_minor"]))
        for e in document["entries"]
    ]
    return int(document["opening_balance_minor"]), int(document["closing_balance_minor"]), entries


def _minor(value: Decimal | str | float) -> int:
    """A major-unit amount as minor units, refusing anything finer than the tiyin."""
    exact = Decimal(str(value)) * 100
    assert exact == exact.to_integral_value(), f"{value} is not a whole number of tiyin"
    return int(exact)


def _read_1c(data: bytes) -> tuple[int, int, list[tuple[date, int]]]:
    parsed = read_1c(data)
    entries = [
        (datetime.strptime(day, "%d.%m.%Y").date(), _minor(amount)) for day, amount in parsed.signed_amounts()
    ]
    opening = _minor(parsed.account["НачальныйОстаток"])
    closing = _minor(parsed.account["КонечныйОстаток"])
    assert (
        opening + _minor(parsed.account["ВсегоПоступило"]) - _minor(parsed.account["ВсегоСписано"]) == closing
    )
    return opening, closing, entries


def _read_ofx(data: bytes, tmp_path: Path) -> tuple[int, int, list[tuple[date, int]]]:
    path = tmp_path / "statement.ofx"
    path.write_bytes(data)
    tree = OFXTree()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # QBO's INTU.BID is a private tag ofxtools skips with a warning
        tree.parse(str(path))
        ofx = tree.convert()
    (statement,) = ofx.statements
    opening = {balance.name: balance.value for balance in statement.ballist}["OPENING"]
    entries = [(t.dtposted.astimezone(TASHKENT).date(), _minor(t.trnamt)) for t in statement.transactions]
    assert len({t.fitid for t in statement.transactions}) == len(entries), "FITIDs are unique"
    return _minor(opening), _minor(statement.balance.balamt), entries


def _read_mt940(data: bytes) -> tuple[int, int, list[tuple[date, int]]]:
    transactions = mt940.models.Transactions()
    transactions.parse(data.decode("ascii"))
    entries = [(t.data["date"], _minor(t.data["amount"].amount)) for t in transactions]
    return (
        _minor(transactions.data["final_opening_balance"].amount.amount),
        _minor(transactions.data["final_closing_balance"].amount.amount),
        entries,
    )


def _read_camt053(data: bytes) -> tuple[int, int, list[tuple[date, int]]]:
    parser = Camt053Parser(data)
    (info,) = parser.get_statement_info()
    entries = [
        (
            date.fromisoformat(t["ValueDate"]),
            _minor(t["Amount"]) * (-1 if t["CreditDebitIndicator"] == "DBIT" else 1),
        )
        for t in parser.get_transactions()
    ]
    return _minor(info["OpeningBalance"]), _minor(info["ClosingBalance"]), entries


def _read_csv(data: bytes) -> tuple[int, int, list[tuple[date, int]]]:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    (opening,) = [r for r in rows if r["row_type"] == "opening_balance"]
    (closing,) = [r for r in rows if r["row_type"] == "closing_balance"]
    entries = [
        (datetime.fromisoformat(r["booked_at"]).date(), _minor(r["amount"]))
        for r in rows
        if r["row_type"] == "entry"
    ]
    return _minor(opening["balance_after"]), _minor(closing["balance_after"]), entries


@pytest.mark.parametrize("fmt", ACCOUNTING_FORMATS)
def test_given_a_real_statement_when_exported_then_an_independent_parser_reads_the_same_books(
    exports: list[dict[str, Any]], fmt: str, tmp_path: Path
) -> None:
    for document in exports:
        data = export_from_api(json.dumps(document).encode(), fmt, created_at=CREATED)
        if fmt == "1c":
            read = _read_1c(data)
        elif fmt in ("ofx", "qbo"):
            read = _read_ofx(data, tmp_path)
        elif fmt == "mt940":
            read = _read_mt940(data)
        elif fmt == "camt053":
            read = _read_camt053(data)
        else:
            read = _read_csv(data)
        assert read == _expected(document), f"{fmt} for {document['card']['card_token']}"


def test_given_a_statement_with_a_reversal_when_exported_then_references_stay_unique(
    exports: list[dict[str, Any]],
) -> None:
    document = next(d for d in exports if d["entries"])
    first = document["entries"][0]
    reversal = {**first, "amount_minor": -first["amount_minor"], "description": "Reversal"}
    doubled = {
        **document,
        "entries": [first, reversal],
        "closing_balance_minor": document["opening_balance_minor"],
    }
    statement = statement_from_export(doubled)
    assert [line.reference for line in statement.lines] == [
        first["transaction_id"],
        first["transaction_id"] + "-R1",
    ]
    assert _read_camt053(export_statement(statement, "camt053", created_at=CREATED))[2] == [
        (date.fromisoformat(first["booked_at"][:10]), first["amount_minor"]),
        (date.fromisoformat(first["booked_at"][:10]), -first["amount_minor"]),
    ]


def test_given_entries_that_do_not_reach_the_closing_balance_when_building_then_error_names_the_gap(
    exports: list[dict[str, Any]],
) -> None:
    document = next(d for d in exports if d["entries"])
    broken = {**document, "entries": document["entries"][1:]}
    with pytest.raises(StatementError, match="does not balance"):
        statement_from_export(broken)


def test_given_uzbek_latin_text_when_exported_to_1c_then_windows_1251_holds_it() -> None:
    account = StatementAccount(
        card_token="crd_abc", pan_masked="860030******4741", currency="UZS", holder_name="Aziz"
    )
    line = StatementLine(
        datetime(2026, 9, 4, 10, 0, tzinfo=TASHKENT), "tx_1", "Oʻzsuvtaʼminot, Toshkent", -5_550_000
    )
    statement = Statement(account, date(2026, 9, 1), date(2026, 9, 30), 10_000_000, 4_450_000, (line,))
    parsed = read_1c(export_statement(statement, "1c", created_at=CREATED))
    assert parsed.documents[0]["НазначениеПлатежа"] == "O'zsuvta'minot, Toshkent"
    assert parsed.signed_amounts() == [("04.09.2026", Decimal("-55500.00"))]


def test_given_an_unknown_format_when_exporting_then_error_lists_the_formats() -> None:
    account = StatementAccount(card_token="crd_abc", pan_masked="860030******4741", currency="UZS")
    statement = Statement(account, date(2026, 9, 1), date(2026, 9, 30), 0, 0)
    with pytest.raises(StatementError, match="1c, ofx, qbo, camt053, mt940, csv"):
        export_statement(statement, "xls")


def test_given_a_float_amount_when_building_then_error_names_the_field(exports: list[dict[str, Any]]) -> None:
    document = next(d for d in exports if d["entries"])
    entries = [{**document["entries"][0], "amount_minor": 1.5}, *document["entries"][1:]]
    with pytest.raises(StatementError, match=r"entries\[0\]\.amount_minor must be an integer"):
        statement_from_export({**document, "entries": entries})
