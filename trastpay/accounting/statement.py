"""The statement every accounting export is written from, checked to balance before any file is made.

A statement is one card account over inclusive Tashkent days: an opening balance, the booked
entries (signed minor units, commission folded in, as the API's statement export shows them) and
a closing balance. It is built from the API's statement answer (``trastpay.statement_export.v1``,
what ``GET /cards/{card_token}/statement/export?format=json`` returns) or from rows of the dbt
ledger (``trastpay__ledger_entries``). Money stays in integer minor units; the writers turn it into
text with integer arithmetic, never through a float.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from trastpay.errors import TrastpayError

TASHKENT = timezone(timedelta(hours=5), "Asia/Tashkent")
BANK_NAME = "Trustbank"
TRUSTBANK_MFO = "00491"
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF"})
EXPORT_FORMAT_ID = "trastpay.statement_export.v1"


class StatementError(TrastpayError, ValueError):
    """A statement that cannot be exported: it names the field or the imbalance."""


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point (ISO 4217): 2 for UZS, USD, EUR, RUB; 0 for the few without."""
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        raise StatementError(f"currency {currency!r} is not an ISO 4217 alphabetic code")
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


def major_text(minor: int, currency: str, *, decimal_mark: str = ".", signed: bool = True) -> str:
    """``-15200`` UZS -> ``"-152.00"``: integer arithmetic only; ``signed=False`` drops the sign."""
    exponent = currency_exponent(currency)
    whole, fraction = divmod(abs(minor), 10**exponent)
    sign = "-" if signed and minor < 0 else ""
    return f"{sign}{whole}{decimal_mark}{fraction:0{exponent}d}" if exponent else f"{sign}{whole}"


@dataclass(frozen=True)
class StatementAccount:
    """The card account a statement is about; only the masked card number is ever kept."""

    card_token: str
    pan_masked: str
    currency: str
    holder_name: str | None = None
    bank_name: str = BANK_NAME
    bank_mfo: str = TRUSTBANK_MFO
    account_number: str | None = None

    @property
    def account_id(self) -> str:
        """The account as accounting files name it: the settlement account when known, else the
        masked card number."""
        return self.account_number or self.pan_masked


@dataclass(frozen=True)
class StatementLine:
    """One booked entry: ``amount_minor`` is the signed balance change (commission included)."""

    booked_at: datetime
    transaction_id: str
    description: str
    amount_minor: int
    commission_minor: int = 0
    counterparty: str | None = None
    reference: str = ""

    @property
    def is_credit(self) -> bool:
        return self.amount_minor > 0

    @property
    def booked_on(self) -> date:
        return self.booked_at.astimezone(TASHKENT).date()


@dataclass(frozen=True)
class Statement:
    account: StatementAccount
    from_date: date
    to_date: date
    opening_balance_minor: int
    closing_balance_minor: int
    lines: tuple[StatementLine, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        currency_exponent(self.account.currency)
        if self.from_date > self.to_date:
            raise StatementError(f"statement period starts {self.from_date} after it ends {self.to_date}")
        for name in ("opening_balance_minor", "closing_balance_minor"):
            if not isinstance(getattr(self, name), int) or isinstance(getattr(self, name), bool):
                raise StatementError(f"{name} must be an integer of minor units")
        net = 0
        for line in self.lines:
            if not isinstance(line.amount_minor, int) or isinstance(line.amount_minor, bool):
                raise StatementError(
                    f"entry {line.transaction_id}: amount_minor must be an integer of minor units"
                )
            if line.booked_at.tzinfo is None:
                raise StatementError(f"entry {line.transaction_id}: booked_at has no time zone")
            if not self.from_date <= line.booked_on <= self.to_date:
                raise StatementError(
                    f"entry {line.transaction_id} booked on {line.booked_on} is outside "
                    f"{self.from_date}..{self.to_date}"
                )
            net += line.amount_minor
        if self.opening_balance_minor + net != self.closing_balance_minor:
            raise StatementError(
                f"statement of {self.account.card_token} does not balance: opening "
                f"{self.opening_balance_minor} + entries {net} != closing {self.closing_balance_minor}"
            )

    @property
    def currency(self) -> str:
        return self.account.currency

    @property
    def debit_total_minor(self) -> int:
        return sum(-line.amount_minor for line in self.lines if line.amount_minor < 0)

    @property
    def credit_total_minor(self) -> int:
        return sum(line.amount_minor for line in self.lines if line.amount_minor > 0)

    def money(self, minor: int, *, decimal_mark: str = ".", signed: bool = True) -> str:
        return major_text(minor, self.currency, decimal_mark=decimal_mark, signed=signed)


def _references(lines: Iterable[StatementLine]) -> tuple[StatementLine, ...]:
    """Give every line a unique reference: the transaction id, then ``-R1``, ``-R2`` for the later
    bookings of the same operation (a reversal books under the same transaction id)."""
    seen: dict[str, int] = {}
    out = []
    for line in lines:
        count = seen.get(line.transaction_id, 0)
        seen[line.transaction_id] = count + 1
        reference = line.transaction_id if count == 0 else f"{line.transaction_id}-R{count}"
        out.append(
            StatementLine(
                line.booked_at,
                line.transaction_id,
                line.description,
                line.amount_minor,
                line.commission_minor,
                line.counterparty,
                reference,
            )
        )
    return tuple(out)


def _int(value: Any, where: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise StatementError(f"{where} must be an integer of minor units, got {type(value).__name__}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise StatementError(f"{where} must be a non-empty string")
    return value


def statement_from_export(document: Mapping[str, Any], *, account_number: str | None = None) -> Statement:
    """A :class:`Statement` from the API's JSON statement export (``trastpay.statement_export.v1``)."""
    if document.get("format") != EXPORT_FORMAT_ID:
        raise StatementError(
            f"not a statement export: format is {document.get('format')!r}, expected {EXPORT_FORMAT_ID!r}"
        )
    card = document.get("card")
    period = document.get("period")
    entries = document.get("entries")
    if not isinstance(card, Mapping) or not isinstance(period, Mapping) or not isinstance(entries, list):
        raise StatementError("statement export lacks card, period or entries")
    currency = _text(document.get("currency"), "currency")
    account = StatementAccount(
        card_token=_text(card.get("card_token"), "card.card_token"),
        pan_masked=_text(card.get("pan_masked"), "card.pan_masked"),
        currency=currency,
        holder_name=card.get("holder_name") or None,
        bank_name=card.get("bank_name") or BANK_NAME,
        bank_mfo=card.get("bank_mfo") or TRUSTBANK_MFO,
        account_number=account_number,
    )
    lines = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise StatementError(f"entries[{index}] is not an object")
        try:
            booked_at = datetime.fromisoformat(_text(entry.get("booked_at"), f"entries[{index}].booked_at"))
        except ValueError:
            raise StatementError(f"entries[{index}].booked_at is not an RFC 3339 date-time") from None
        lines.append(
            StatementLine(
                booked_at=booked_at,
                transaction_id=_text(entry.get("transaction_id"), f"entries[{index}].transaction_id"),
                description=str(entry.get("description") or ""),
                amount_minor=_int(entry.get("amount_minor"), f"entries[{index}].amount_minor"),
                commission_minor=_int(entry.get("commission_minor", 0), f"entries[{index}].commission_minor"),
            )
        )
    try:
        from_date = date.fromisoformat(_text(period.get("from"), "period.from"))
        to_date = date.fromisoformat(_text(period.get("to"), "period.to"))
    except ValueError:
        raise StatementError("period.from and period.to must be dates like 2026-10-01") from None
    return Statement(
        account=account,
        from_date=from_date,
        to_date=to_date,
        opening_balance_minor=_int(document.get("opening_balance_minor"), "opening_balance_minor"),
        closing_balance_minor=_int(document.get("closing_balance_minor"), "closing_balance_minor"),
        lines=_references(lines),
    )


def statement_from_ledger(
    entries: Iterable[Mapping[str, Any]],
    *,
    account: StatementAccount,
    from_date: date,
    to_date: date,
    opening_balance_minor: int,
    closing_balance_minor: int | None = None,
) -> Statement:
    """A :class:`Statement` from ``trastpay__ledger_entries`` rows of one card's card book.

    Rows need ``book``, ``entry_kind``, ``card_token``, ``affects_balance``, ``booked_at``,
    ``amount_minor``, ``currency``, ``source_record_id``, ``description`` and ``counterparty``.
    A posting and its commission (or a reversal and its commission reversal) become one line,
    as on the bank's statement; memo entries (holds, declines) are left out. Pass the statement's
    ``closing_balance_minor`` to have the entries checked against it (StatementError if they differ).
    """
    grouped: dict[tuple[datetime, str, bool], list[Mapping[str, Any]]] = {}
    for row in entries:
        if (
            row.get("book") != "card"
            or not row.get("affects_balance")
            or row.get("card_token") != account.card_token
        ):
            continue
        if row.get("currency") != account.currency:
            record = row.get("source_record_id")
            raise StatementError(f"ledger entry {record} is in {row.get('currency')}, not {account.currency}")
        booked_at = row["booked_at"]
        if not isinstance(booked_at, datetime) or booked_at.tzinfo is None:
            raise StatementError(
                f"ledger entry {row.get('source_record_id')}: booked_at must be an aware datetime"
            )
        if not from_date <= booked_at.astimezone(TASHKENT).date() <= to_date:
            continue
        reversal = str(row.get("entry_kind")) in ("reversal", "commission_reversal")
        grouped.setdefault((booked_at, str(row["source_record_id"]), reversal), []).append(row)
    lines = []
    for (booked_at, record_id, _), rows in sorted(
        grouped.items(), key=lambda item: (item[0][0], item[0][1], item[0][2])
    ):
        main = [r for r in rows if r.get("entry_kind") in ("posting", "reversal")]
        fees = [r for r in rows if r.get("entry_kind") in ("commission", "commission_reversal")]
        head = main[0] if main else rows[0]
        lines.append(
            StatementLine(
                booked_at=booked_at,
                transaction_id=record_id,
                description=str(head.get("description") or ""),
                amount_minor=sum(_int(r["amount_minor"], "amount_minor") for r in rows),
                commission_minor=-sum(_int(r["amount_minor"], "amount_minor") for r in fees),
                counterparty=head.get("counterparty"),
            )
        )
    net = sum(line.amount_minor for line in lines)
    return Statement(
        account=account,
        from_date=from_date,
        to_date=to_date,
        opening_balance_minor=opening_balance_minor,
        closing_balance_minor=opening_balance_minor + net
        if closing_balance_minor is None
        else closing_balance_minor,
        lines=_references(lines),
    )
