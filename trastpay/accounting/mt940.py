"""SWIFT MT940 customer statement (the text block of the message).

Fields: ``:20:`` statement reference, ``:25:`` account (bank MFO / account), ``:28C:`` statement
number, ``:60F:`` opening balance, one ``:61:`` statement line plus ``:86:`` details per entry,
``:62F:`` closing balance. Amounts use a decimal comma; ``C``/``D`` give the sign (``RC``/``RD`` for
a reversal line would need the original; every line here is a plain booking). Text is limited to
the SWIFT X character set, so masked card numbers show ``X`` instead of ``*`` and the transaction id
travels in ``:86:`` (``:61:`` references hold 16 characters).
"""

from __future__ import annotations

import re
from datetime import date

from trastpay.accounting.statement import Statement

_NOT_SWIFT_X = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_TRANSLITERATE = str.maketrans({"*": "X", "_": "-", "ʻ": "'", "ʼ": "'", "‘": "'", "’": "'", "&": "+"})


def swift_text(value: str, limit: int) -> str:
    """``value`` in the SWIFT X character set, at most ``limit`` characters."""
    return _NOT_SWIFT_X.sub(".", " ".join(value.translate(_TRANSLITERATE).split()))[:limit]


def _yymmdd(day: date) -> str:
    return day.strftime("%y%m%d")


def _balance(tag: str, statement: Statement, minor: int, day: date) -> str:
    mark = "D" if minor < 0 else "C"
    return f":{tag}:{mark}{_yymmdd(day)}{statement.currency}{statement.money(abs(minor), decimal_mark=',')}"


def _details(text: str) -> list[str]:
    """``:86:`` content: up to 6 lines of 65 characters."""
    flat = swift_text(text, 6 * 65)
    return [flat[i : i + 65] for i in range(0, len(flat), 65)] or ["-"]


def render_mt940(statement: Statement, *, statement_number: int = 1) -> bytes:
    account = statement.account
    reference = swift_text(f"{account.card_token}{statement.from_date:%y%m%d}", 16)
    lines = [
        f":20:{reference}",
        f":25:{swift_text(account.bank_mfo + '/' + account.account_id, 35)}",
        f":28C:{statement_number}/1",
        _balance("60F", statement, statement.opening_balance_minor, statement.from_date),
    ]
    for line in statement.lines:
        mark = "C" if line.is_credit else "D"
        amount = statement.money(abs(line.amount_minor), decimal_mark=",")
        booked = line.booked_on
        lines.append(
            f":61:{_yymmdd(booked)}{booked:%m%d}{mark}{amount}NMSC{swift_text(line.reference, 16)}"
            f"//{swift_text(line.transaction_id[-16:], 16)}"
        )
        details = _details(f"{line.reference} {line.description}")
        lines.append(f":86:{details[0]}")
        lines.extend(details[1:])
    lines.append(_balance("62F", statement, statement.closing_balance_minor, statement.to_date))
    return ("\r\n".join(lines) + "\r\n-}").encode("ascii")
