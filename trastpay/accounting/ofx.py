"""OFX 2.2 (XML) and QBO (QuickBooks Web Connect) bank statements.

OFX carries the closing balance as ``LEDGERBAL``; the opening balance has no element of its own,
so it goes in ``BALLIST`` as a named balance (``OPENING``), which OFX readers keep. QBO is the
OFX 1.0.2 SGML form QuickBooks imports, with Intuit's ``INTU.BID`` (the bank id QuickBooks knows
the institution by) after ``FI``. Amounts are signed decimal text; times are UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from xml.sax.saxutils import escape

from trastpay.accounting.statement import TASHKENT, Statement

OFX2_HEADER = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>\n'
)
QBO_HEADER = (
    "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\nCHARSET:1252\r\n"
    "COMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n"
)
DEFAULT_INTU_BID = "3000"
_TRANSLITERATE = str.maketrans({"ʻ": "'", "ʼ": "'", "‘": "'", "’": "'"})


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S") + "[0:GMT]"


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), TASHKENT)


def _elements(statement: Statement, *, created_at: datetime, sgml: bool, intu_bid: str | None) -> list[str]:
    def text(value: str, limit: int) -> str:
        flat = " ".join(value.translate(_TRANSLITERATE).split())[:limit]
        if sgml:
            flat = flat.encode("cp1252", errors="replace").decode("cp1252")
        return escape(flat)

    def leaf(tag: str, value: str) -> str:
        return f"<{tag}>{value}" if sgml else f"<{tag}>{value}</{tag}>"

    account = statement.account
    end = _day_start(statement.to_date).replace(hour=23, minute=59, second=59)
    out = [
        "<OFX>",
        "<SIGNONMSGSRSV1>",
        "<SONRS>",
        "<STATUS>",
        leaf("CODE", "0"),
        leaf("SEVERITY", "INFO"),
        "</STATUS>",
        leaf("DTSERVER", _stamp(created_at)),
        leaf("LANGUAGE", "ENG"),
        "<FI>",
        leaf("ORG", text(account.bank_name, 32)),
        leaf("FID", account.bank_mfo),
        "</FI>",
    ]
    if intu_bid is not None:
        out.append(leaf("INTU.BID", intu_bid))
    out += [
        "</SONRS>",
        "</SIGNONMSGSRSV1>",
        "<BANKMSGSRSV1>",
        "<STMTTRNRS>",
        leaf("TRNUID", text(f"{account.card_token}-{statement.from_date:%Y%m%d}", 36)),
        "<STATUS>",
        leaf("CODE", "0"),
        leaf("SEVERITY", "INFO"),
        "</STATUS>",
        "<STMTRS>",
        leaf("CURDEF", statement.currency),
        "<BANKACCTFROM>",
        leaf("BANKID", account.bank_mfo),
        leaf("ACCTID", text(account.account_id, 22)),
        leaf("ACCTTYPE", "CHECKING"),
        "</BANKACCTFROM>",
        "<BANKTRANLIST>",
        leaf("DTSTART", _stamp(_day_start(statement.from_date))),
        leaf("DTEND", _stamp(end)),
    ]
    for line in statement.lines:
        out += [
            "<STMTTRN>",
            leaf("TRNTYPE", "CREDIT" if line.is_credit else "DEBIT"),
            leaf("DTPOSTED", _stamp(line.booked_at)),
            leaf("TRNAMT", statement.money(line.amount_minor)),
            leaf("FITID", text(line.reference, 255)),
            leaf("NAME", text(line.counterparty or line.description or line.reference, 32)),
            leaf("MEMO", text(line.description or line.reference, 255)),
            "</STMTTRN>",
        ]
    out += [
        "</BANKTRANLIST>",
        "<LEDGERBAL>",
        leaf("BALAMT", statement.money(statement.closing_balance_minor)),
        leaf("DTASOF", _stamp(end)),
        "</LEDGERBAL>",
        "<BALLIST>",
        "<BAL>",
        leaf("NAME", "OPENING"),
        leaf("DESC", "Opening balance"),
        leaf("BALTYPE", "DOLLAR"),
        leaf("VALUE", statement.money(statement.opening_balance_minor)),
        leaf("DTASOF", _stamp(_day_start(statement.from_date))),
        "</BAL>",
        "</BALLIST>",
        "</STMTRS>",
        "</STMTTRNRS>",
        "</BANKMSGSRSV1>",
        "</OFX>",
    ]
    return out


def render_ofx(statement: Statement, *, created_at: datetime) -> bytes:
    """OFX 2.2 XML, UTF-8."""
    body = "\n".join(_elements(statement, created_at=created_at, sgml=False, intu_bid=None))
    return (OFX2_HEADER + body + "\n").encode("utf-8")


def render_qbo(statement: Statement, *, created_at: datetime, intu_bid: str = DEFAULT_INTU_BID) -> bytes:
    """QuickBooks Web Connect: OFX 1.0.2 SGML with ``INTU.BID``, windows-1252."""
    body = "\r\n".join(_elements(statement, created_at=created_at, sgml=True, intu_bid=intu_bid))
    return (QBO_HEADER + body + "\r\n").encode("cp1252")
