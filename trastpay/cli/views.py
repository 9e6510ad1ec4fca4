"""``trastpay microloans`` and ``trastpay fx``: quick terminal tables of a profile's data.

Amounts are rendered from minor units with integer arithmetic (:mod:`trastpay.money`), so what
the table shows is exact to the tiyin; card columns show masked numbers only (first 6 + last 4).
Both views list everything the API has (not only since the config's ``start_date``), except that
``fx --since`` narrows the conversions to those at or after a date.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import Any

from trastpay.cli.common import CliError, list_all, load_config, open_session, out, render_table
from trastpay.cursors import TASHKENT, format_instant, parse_instant
from trastpay.masking import mask_pan
from trastpay.money import minor_to_decimal
from trastpay.session import TrastpaySession
from trastpay.streams import get_stream

NONE = "-"


def add_parsers(commands: Any) -> None:
    loans = commands.add_parser(
        "microloans",
        help="table of microloans",
        description="Microloans: status, principal, rate, outstanding principal, next due instalment.",
    )
    loans.add_argument("--config", help="connector config JSON (default: $TRASTPAY_CONFIG)")
    loans.set_defaults(handler=run_microloans)
    fx = commands.add_parser(
        "fx",
        help="table of currency conversions",
        description="Currency conversions with date, side, pair, rate, amounts and masked cards.",
    )
    fx.add_argument("--config", help="connector config JSON (default: $TRASTPAY_CONFIG)")
    fx.add_argument("--since", help="only conversions at or after this date (YYYY-MM-DD) or RFC 3339 time")
    fx.set_defaults(handler=run_fx)


def money(minor: object, currency: object) -> str:
    """``"37200000.00 UZS"`` from minor units; ``-`` when absent; raw minor units for an unknown currency."""
    if minor is None or not isinstance(currency, str):
        return NONE
    if type(minor) is not int:
        raise CliError(f"an amount in minor units is not an integer ({type(minor).__name__})")
    try:
        return f"{minor_to_decimal(minor, currency)} {currency}"
    except ValueError:
        return f"{minor} minor units {currency}"


def _card_labels(session: TrastpaySession) -> dict[str, str]:
    """Card token -> masked card number, for the card columns."""
    cards = session.client.get_json("/cards", scope="cards:read").get("items")
    labels: dict[str, str] = {}
    for card in cards if isinstance(cards, list) else []:
        if isinstance(card, Mapping) and isinstance(card.get("card_token"), str):
            pan = card.get("pan_masked")
            labels[card["card_token"]] = mask_pan(pan) if isinstance(pan, str) and pan else card["card_token"]
    return labels


def _card(labels: Mapping[str, str], token: object) -> str:
    if not isinstance(token, str) or not token:
        return NONE
    return labels.get(token, token)


def _next_due(schedule: list[dict[str, Any]]) -> tuple[str, str]:
    open_items = [
        row for row in schedule if row.get("status") != "paid" and isinstance(row.get("due_date"), str)
    ]
    if not open_items:
        return NONE, NONE
    first = min(open_items, key=lambda row: (row["due_date"], row.get("instalment_number", 0)))
    overdue = " (overdue)" if first.get("status") == "overdue" else ""
    return first["due_date"] + overdue, money(first.get("total_minor"), first.get("currency"))


def microloan_rows(session: TrastpaySession) -> list[tuple[str, ...]]:
    loans_stream, schedule_stream = get_stream("microloans"), get_stream("microloan_schedules")
    labels = _card_labels(session)
    rows: list[tuple[str, ...]] = []
    for loan in list_all(session, loans_stream, loans_stream.path):
        currency = loan.get("currency")
        schedule = list(
            list_all(session, schedule_stream, schedule_stream.path.replace("{parent_id}", loan["id"]))
        )
        due_date, due_amount = _next_due(schedule)
        principal = loan.get("principal_minor")
        rows.append(
            (
                str(loan["id"]),
                str(loan.get("status", NONE)),
                money(principal if principal is not None else loan.get("requested_amount_minor"), currency),
                f"{loan['annual_rate']}%" if loan.get("annual_rate") else NONE,
                money(loan.get("outstanding_principal_minor"), currency),
                due_date,
                due_amount,
                _card(labels, loan.get("disbursement_card_token")),
            )
        )
    return rows


def run_microloans(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    with open_session(config) as session:
        rows = microloan_rows(session)
    if not rows:
        out("No microloans.")
        return 0
    headers = ("LOAN", "STATUS", "PRINCIPAL", "RATE", "OUTSTANDING", "NEXT DUE", "DUE AMOUNT", "CARD")
    out(render_table(headers, rows, right=frozenset({2, 3, 4, 6})))
    return 0


def fx_rows(session: TrastpaySession, since: str | None) -> list[tuple[str, ...]]:
    stream = get_stream("fx_conversions")
    params = {"since": since} if since else None
    labels = _card_labels(session)
    rows: list[tuple[str, ...]] = []
    for conversion in list_all(session, stream, stream.path, params):
        when = parse_instant(conversion["occurred_at"]).astimezone(TASHKENT).strftime("%Y-%m-%d %H:%M")
        rows.append(
            (
                when,
                str(conversion.get("location", NONE)),
                str(conversion.get("side", NONE)),
                f"{conversion.get('base_currency')}/{conversion.get('quote_currency')}",
                str(conversion.get("rate", NONE)),
                money(conversion.get("sell_amount_minor"), conversion.get("sell_currency")),
                money(conversion.get("buy_amount_minor"), conversion.get("buy_currency")),
                _card(labels, conversion.get("from_card_token")),
                _card(labels, conversion.get("to_card_token")),
            )
        )
    return rows


def run_fx(args: argparse.Namespace) -> int:
    since: str | None = None
    if args.since:
        try:
            since = format_instant(parse_instant(args.since))
        except ValueError:
            raise CliError(
                f"--since '{args.since[:40]}' is not a date like 2026-03-01 or an RFC 3339 time"
            ) from None
    config = load_config(args.config)
    with open_session(config) as session:
        rows = fx_rows(session, since)
    if not rows:
        out("No currency conversions.")
        return 0
    headers = ("DATE", "WHERE", "SIDE", "PAIR", "RATE", "SOLD", "BOUGHT", "FROM CARD", "TO CARD")
    out(render_table(headers, rows, right=frozenset({4, 5, 6})))
    return 0
