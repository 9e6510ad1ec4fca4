"""1C:Enterprise ClientBankExchange 1.03: the text file 1C's bank-statement processing imports.

Published layout (the 1C "client bank" exchange standard, format version 1.03): ``key=value``
lines in windows-1251 with CRLF; a file header, one ``СекцияРасчСчет`` with the account's period
balances and turnovers, one ``СекцияДокумент`` per booked entry, ``КонецФайла``. Dates are
``dd.mm.yyyy``, amounts unsigned with a ``.`` decimal mark; the direction is given by which side
(payer or receiver) is our account and by ``ДатаСписано`` (debited) or ``ДатаПоступило``
(credited). The bank is identified by its MFO in the ``БИК`` fields, the Uzbek bank code.
"""

from __future__ import annotations

from datetime import date, datetime

from trastpay.accounting.statement import Statement, StatementError

ENCODING = "cp1251"
DOCUMENT_KIND = "Банковский ордер"
_TRANSLITERATE = str.maketrans(
    {"ʻ": "'", "ʼ": "'", "‘": "'", "’": "'", "“": '"', "”": '"', "—": "-", "–": "-"}
)


def _clean(text: str) -> str:
    """One line of windows-1251 text: no line breaks or ``=``-free keys broken by values; characters
    outside the code page (rare Uzbek Latin letters) transliterated or replaced by ``?``."""
    flat = " ".join(text.translate(_TRANSLITERATE).split())
    return flat.encode(ENCODING, errors="replace").decode(ENCODING)


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def render_1c(statement: Statement, *, created_at: datetime, sender: str = "Trastpay") -> bytes:
    """The ClientBankExchange file of ``statement``, encoded in windows-1251."""
    account = statement.account
    account_id = _clean(account.account_id)
    holder = _clean(account.holder_name or account.pan_masked)
    bank = _clean(account.bank_name)
    lines = [
        "1CClientBankExchange",
        "ВерсияФормата=1.03",
        "Кодировка=Windows",
        f"Отправитель={_clean(sender)}",
        "Получатель=1С:Предприятие",
        f"ДатаСоздания={created_at.strftime('%d.%m.%Y')}",
        f"ВремяСоздания={created_at.strftime('%H:%M:%S')}",
        f"ДатаНачала={_day(statement.from_date)}",
        f"ДатаКонца={_day(statement.to_date)}",
        f"РасчСчет={account_id}",
        "СекцияРасчСчет",
        f"ДатаНачала={_day(statement.from_date)}",
        f"ДатаКонца={_day(statement.to_date)}",
        f"РасчСчет={account_id}",
        f"НачальныйОстаток={statement.money(statement.opening_balance_minor)}",
        f"ВсегоПоступило={statement.money(statement.credit_total_minor)}",
        f"ВсегоСписано={statement.money(statement.debit_total_minor)}",
        f"КонечныйОстаток={statement.money(statement.closing_balance_minor)}",
        "КонецРасчСчет",
    ]
    for number, line in enumerate(statement.lines, start=1):
        if line.amount_minor == 0:
            raise StatementError(f"entry {line.reference}: 1C documents need a non-zero amount")
        other = _clean(line.counterparty or line.description or "—")
        ours = [
            f"Счет={account_id}",
            f"={holder}",
            f"РасчСчет={account_id}",
            f"Банк1={bank}",
            f"БИК={account.bank_mfo}",
        ]
        theirs = ["Счет=", f"={other}", "РасчСчет=", "Банк1=", "БИК="]
        payer, receiver = (theirs, ours) if line.is_credit else (ours, theirs)
        day = _day(line.booked_on)
        lines += [
            f"СекцияДокумент={DOCUMENT_KIND}",
            f"Номер={number}",
            f"Дата={day}",
            f"Сумма={statement.money(abs(line.amount_minor))}",
            *(f"Плательщик{field}" for field in payer),
            *(f"Получатель{field}" for field in receiver),
            "ВидОплаты=01",
            f"{'ДатаПоступило' if line.is_credit else 'ДатаСписано'}={day}",
            f"НазначениеПлатежа={_clean(line.description)}",
            "КонецДокумента",
        ]
    lines.append("КонецФайла")
    for text in lines:
        key = text.split("=", 1)[0]
        if "\r" in text or "\n" in text or not key:
            raise StatementError(f"1C line {text[:40]!r} is malformed")
    return ("\r\n".join(lines) + "\r\n").encode(ENCODING)
