"""ISO 20022 camt.053.001.08 bank-to-customer statement (XML).

One ``Stmt`` with the account (its id under ``Othr``, the bank by its MFO as clearing-system
member), the opening (``OPBD``) and closing (``CLBD``) booked balances, the transaction summary and
one ``Ntry`` per booked entry: unsigned ``Amt`` with ``CdtDbtInd``, status ``BOOK``, booking time,
value date, the transaction id as the servicer's reference, and the description as unstructured
remittance information. Elements follow the schema's sequence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from trastpay.accounting.statement import Statement

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
_TRANSLITERATE = str.maketrans({"ʻ": "'", "ʼ": "'"})


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attributes)
    if text is not None:
        element.text = text
    return element


def _amount(parent: ET.Element, statement: Statement, minor: int) -> None:
    _sub(parent, "Amt", statement.money(abs(minor)), Ccy=statement.currency)
    _sub(parent, "CdtDbtInd", "DBIT" if minor < 0 else "CRDT")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def _balance(stmt: ET.Element, statement: Statement, code: str, minor: int, day: str) -> None:
    balance = _sub(stmt, "Bal")
    _sub(_sub(_sub(balance, "Tp"), "CdOrPrtry"), "Cd", code)
    _amount(balance, statement, minor)
    _sub(_sub(balance, "Dt"), "Dt", day)


def render_camt053(statement: Statement, *, created_at: datetime) -> bytes:
    account = statement.account
    message_id = f"{account.card_token}-{statement.from_date:%Y%m%d}-{statement.to_date:%Y%m%d}"[:35]
    document = ET.Element("Document", {"xmlns": NAMESPACE})
    root = _sub(document, "BkToCstmrStmt")
    header = _sub(root, "GrpHdr")
    _sub(header, "MsgId", message_id)
    _sub(header, "CreDtTm", _iso(created_at))
    stmt = _sub(root, "Stmt")
    _sub(stmt, "Id", message_id)
    _sub(stmt, "ElctrncSeqNb", "1")
    _sub(stmt, "CreDtTm", _iso(created_at))
    period = _sub(stmt, "FrToDt")
    _sub(period, "FrDtTm", f"{statement.from_date.isoformat()}T00:00:00+05:00")
    _sub(period, "ToDtTm", f"{statement.to_date.isoformat()}T23:59:59+05:00")
    acct = _sub(stmt, "Acct")
    _sub(_sub(_sub(acct, "Id"), "Othr"), "Id", account.account_id)
    _sub(acct, "Ccy", statement.currency)
    if account.holder_name:
        _sub(_sub(acct, "Ownr"), "Nm", account.holder_name[:140])
    institution = _sub(_sub(acct, "Svcr"), "FinInstnId")
    _sub(_sub(institution, "ClrSysMmbId"), "MmbId", account.bank_mfo)
    _sub(institution, "Nm", account.bank_name)
    _balance(stmt, statement, "OPBD", statement.opening_balance_minor, statement.from_date.isoformat())
    _balance(stmt, statement, "CLBD", statement.closing_balance_minor, statement.to_date.isoformat())
    summary = _sub(stmt, "TxsSummry")
    totals = _sub(summary, "TtlNtries")
    _sub(totals, "NbOfNtries", str(len(statement.lines)))
    _sub(totals, "Sum", statement.money(statement.debit_total_minor + statement.credit_total_minor))
    net = statement.credit_total_minor - statement.debit_total_minor
    net_element = _sub(totals, "TtlNetNtry")
    _sub(net_element, "Amt", statement.money(abs(net)))
    _sub(net_element, "CdtDbtInd", "DBIT" if net < 0 else "CRDT")
    credits = _sub(summary, "TtlCdtNtries")
    _sub(credits, "NbOfNtries", str(sum(1 for line in statement.lines if line.is_credit)))
    _sub(credits, "Sum", statement.money(statement.credit_total_minor))
    debits = _sub(summary, "TtlDbtNtries")
    _sub(debits, "NbOfNtries", str(sum(1 for line in statement.lines if not line.is_credit)))
    _sub(debits, "Sum", statement.money(statement.debit_total_minor))
    for line in statement.lines:
        entry = _sub(stmt, "Ntry")
        _sub(entry, "NtryRef", line.reference[:35])
        _amount(entry, statement, line.amount_minor)
        _sub(_sub(entry, "Sts"), "Cd", "BOOK")
        _sub(_sub(entry, "BookgDt"), "DtTm", _iso(line.booked_at))
        _sub(_sub(entry, "ValDt"), "Dt", line.booked_on.isoformat())
        _sub(entry, "AcctSvcrRef", line.reference[:35])
        _sub(_sub(_sub(entry, "BkTxCd"), "Prtry"), "Cd", "CARD")
        details = _sub(_sub(entry, "NtryDtls"), "TxDtls")
        _sub(_sub(details, "Refs"), "AcctSvcrRef", line.reference[:35])
        _amount(details, statement, line.amount_minor)
        description = " ".join((line.description or line.reference).translate(_TRANSLITERATE).split())
        _sub(_sub(details, "RmtInf"), "Ustrd", description[:140])
        _sub(entry, "AddtlNtryInf", description[:500])
    ET.indent(document)
    body: bytes = ET.tostring(document, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body + b"\n"
