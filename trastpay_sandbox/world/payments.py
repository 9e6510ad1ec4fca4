"""Virtual cards, "My Home" service payments with saved invoices, and currency conversions."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from trastpay_sandbox.world.cards import (
    TRASTBANK,
    TRASTBANK_HUMO_BIN,
    TRASTBANK_MASTERCARD_BIN,
    TRASTBANK_MFO,
    TRASTBANK_UZCARD_BIN,
    CardSpec,
    masked_pan_for,
)
from trastpay_sandbox.world.clock import DAY, date_day, day_date, day_start, fmt_ts, local_day
from trastpay_sandbox.world.entities import EntityBuilder, make_tx
from trastpay_sandbox.world.fx_rates import cb_rate
from trastpay_sandbox.world.money import div_half_up, fmt_minor, fmt_scaled
from trastpay_sandbox.world.rng import digits, stable_token


class Provider(NamedTuple):
    """One "My Home" service provider: bills in soum, an MCC (ISO 18245) and how often it is paid."""

    code: str
    name: str
    service: str
    account_prefix: str
    bill_soum: tuple[int, int]
    mcc: str
    months: tuple[int, ...] | None
    """Calendar months a bill is due (None: every month)."""
    take_up: float
    """Share of customers who pay this provider."""


WINTER = (11, 12, 1, 2, 3)
PROVIDERS: tuple[Provider, ...] = (
    Provider("HET", "Hududiy elektr tarmoqlari", "electricity", "10", (60_000, 400_000), "4900", None, 0.9),
    Provider("HGT", "Hududgaztaminot", "gas", "20", (40_000, 350_000), "4900", None, 0.9),
    Provider("OST", "O'zsuvta'minot", "water", "30", (20_000, 90_000), "4900", None, 0.5),
    Provider("TZM", "Toza Makon", "waste", "40", (8_000, 25_000), "4900", None, 0.5),
    Provider("TIQ", "Toshissiqquvvati", "heating", "50", (150_000, 600_000), "4900", WINTER, 0.5),
    # Mobile and internet (MCC 4814 telecommunication services).
    Provider("BEE", "Beeline Uzbekistan", "mobile", "90", (30_000, 150_000), "4814", None, 0.35),
    Provider("UCL", "Ucell", "mobile", "93", (30_000, 150_000), "4814", None, 0.3),
    Provider("UZM", "Uzmobile", "mobile", "95", (25_000, 120_000), "4814", None, 0.2),
    Provider("MBZ", "Mobiuz", "mobile", "97", (30_000, 140_000), "4814", None, 0.2),
    Provider("UZT", "Uztelecom internet", "internet", "71", (99_000, 350_000), "4814", None, 0.3),
    Provider("SRK", "Sarkor Telecom", "internet", "72", (120_000, 400_000), "4814", None, 0.15),
    # Taxes (9311) and fines (9222): property and land tax twice a year, traffic fines now and then.
    Provider("STQ", "Soliq: mol-mulk solig'i", "taxes", "60", (80_000, 1_500_000), "9311", (3, 10), 0.4),
    Provider("YHX", "IIV YHXB: jarimalar", "fines", "70", (187_500, 1_125_000), "9222", None, 0.3),
    # Repayment of a loan at another bank (6012 financial institutions).
    Provider("KPB", "Kapitalbank kredit", "loan_repayment", "80", (400_000, 3_000_000), "6012", None, 0.12),
    Provider("ANB", "Anorbank kredit", "loan_repayment", "81", (300_000, 2_500_000), "6012", None, 0.08),
)
"""Bill ranges are synthetic (unverified); fines are 0.5-3 times the base calculation amount
(375,000 UZS, unverified): 30 % of customers have a saved fines invoice and pay one in about 6 % of
their months."""
AUTOPAY_SERVICES = frozenset({"mobile", "internet", "loan_repayment"})
"""Services whose saved invoice may have autopay on (paid on a fixed day every month)."""
AUTOPAY_SHARE = 0.4
ABROAD = (
    ("EUR", "DE", "Berlin", "Rewe"),
    ("EUR", "IT", "Rome", "Esselunga"),
    ("RUB", "RU", "Moscow", "Pyaterochka"),
    ("GBP", "GB", "London", "Tesco"),
    ("CNY", "CN", "Urumqi", "Carrefour China"),
    ("KZT", "KZ", "Almaty", "Magnum"),
)
ABROAD_PURCHASE_MAJOR = {
    "EUR": (5, 250),
    "GBP": (4, 200),
    "RUB": (300, 20_000),
    "CNY": (30, 1_500),
    "KZT": (2_000, 100_000),
}
"""A grocery purchase abroad in whole units of the local currency (about US$5-270 each): drawn
log-uniformly, so a typical KZT purchase is ~14,000 tenge, not 5-300 tenge (synthetic, reasoned
from price levels; unverified)."""


def abroad_amount_minor(ccy: str, u: float) -> int:
    """The purchase amount in minor units for a uniform draw ``u`` in [0, 1)."""
    low, high = ABROAD_PURCHASE_MAJOR[ccy]
    minor = round(low * 100 * math.exp(math.log(high / low) * u))
    return max(low * 100, min(high * 100, minor))


def build_virtual_cards(b: EntityBuilder) -> None:
    rng = b.rng("virtual-cards")
    for index in range(rng.choice((0, 1, 1, 2))):
        created = b.random_instant(rng)
        rail = rng.choice(("UZCARD", "HUMO", "HUMO", "MASTERCARD"))
        bin_ = {"UZCARD": TRASTBANK_UZCARD_BIN, "HUMO": TRASTBANK_HUMO_BIN}.get(
            rail, TRASTBANK_MASTERCARD_BIN
        )
        currency = "USD" if rail == "MASTERCARD" else "UZS"
        token = stable_token("crd_", b.seed, b.customer_id, "virtual", index)
        expiry = day_date(local_day(created) + 3 * 365)
        unit = 100 if currency == "UZS" else 1
        record: dict[str, Any] = {
            "card_token": token,
            "rail": rail,
            "pan_masked": masked_pan_for(rng, bin_),
            "currency": currency,
            "status": "active",
            "created_at": fmt_ts(created),
            "updated_at": fmt_ts(created),
            "expiry_month": f"{expiry.year}-{expiry.month:02d}",
            "daily_limit_minor": rng.choice((1_000_000, 2_000_000, 5_000_000))
            * unit
            * (1 if unit == 100 else 10),
            "monthly_limit_minor": rng.choice((10_000_000, 20_000_000)) * unit * (1 if unit == 100 else 10),
            "online_payments_enabled": True,
        }
        entity = b.entity("virtual_cards", token)
        if not b.version(entity, created, record, "virtual_card.created", {"status": "active"}):
            continue
        closed_at = b.end
        at = created
        for _ in range(rng.choice((0, 1, 2))):
            at += rng.randrange(5, 120) * DAY + rng.randrange(DAY)
            frozen = b.version(
                entity,
                at,
                {**record, "status": "frozen", "updated_at": fmt_ts(at)},
                "virtual_card.status_changed",
                {"status": "frozen"},
            )
            at += rng.randrange(1, 10) * DAY
            if frozen:
                record["updated_at"] = fmt_ts(at)
                b.version(entity, at, record, "virtual_card.status_changed", {"status": "active"})
        if rng.random() < 0.3:
            at = day_start(local_day(at) + rng.randrange(30, 300)) + 23 * 3600
            record.update(status="closed", updated_at=fmt_ts(at))
            if b.version(entity, at, record, "virtual_card.status_changed", {"status": "closed"}):
                closed_at = day_start(local_day(at))
        b.result.virtual_cards.append(
            CardSpec(
                token=token,
                pan_masked=record["pan_masked"],
                bin=bin_,
                rail=rail,
                currency=currency,
                bank_name=TRASTBANK,
                bank_mfo=TRASTBANK_MFO,
                holder_name=b.holder,
                expiry_month=record["expiry_month"],
                is_virtual=True,
                is_trastbank=True,
                linked_at=created,
                kind="virtual" if currency == "UZS" else "usd",
                weight=0.15,
                opening_balance_minor=0,
                index=100 + index,
                active_from=day_start(local_day(created) + 1),
                active_until=max(closed_at, day_start(local_day(created) + 2)),
            )
        )


def build_utility_payments(b: EntityBuilder) -> None:
    rng = b.rng("myhome")
    card = b.main_card()
    chosen = [p for p in PROVIDERS if rng.random() < p.take_up]
    per_month = b.monthly_rate * 8 / 35
    regular = [p for p in chosen if p.service != "fines"]
    for index, provider in enumerate(chosen):
        invoice_id = stable_token("inv_", b.seed, b.customer_id, "saved", index, length=12)
        saved_at = b.start - rng.randrange(30, 400) * DAY
        account = provider.account_prefix + digits(rng, rng.choice((8, 9, 10)))
        autopay = provider.service in AUTOPAY_SERVICES and rng.random() < AUTOPAY_SHARE
        autopay_day = rng.randrange(1, 28)
        b.result.saved_invoices.append(
            (
                saved_at,
                {
                    "id": invoice_id,
                    "provider_code": provider.code,
                    "provider_name": provider.name,
                    "service": provider.service,
                    "account_id": account,
                    "alias": f"{provider.service.replace('_', ' ').title()} - home",
                    "card_token": card.token,
                    "created_at": fmt_ts(saved_at),
                    "autopay": autopay,
                    "autopay_day": autopay_day if autopay else None,
                },
            )
        )
        if provider.service == "fines":
            share = 0.06
        else:
            share = 1.0 if autopay else min(1.0, per_month / max(1, len(regular)))
        month_day = date_day(day_date(b.first_day + 31).replace(day=1))
        while month_day <= b.last_day:
            d = day_date(month_day)
            next_first = day_date(month_day + 32).replace(day=1)
            pay_day = month_day + (autopay_day - 1 if autopay else rng.randrange(0, 14))
            due = provider.months is None or d.month in provider.months
            if due and rng.random() < share and pay_day <= b.last_day:
                period = day_date(month_day - 1)
                low, high = provider.bill_soum
                created = (
                    day_start(pay_day) + 7 * 3600 + rng.randrange(3600)
                    if autopay
                    else b.daytime(rng, pay_day)
                )
                _one_payment(
                    b,
                    rng,
                    card,
                    invoice_id,
                    provider,
                    account,
                    f"{period:%Y-%m}",
                    rng.randrange(low, high) // 100 * 100 * 100,
                    created,
                    "autopay" if autopay else "customer",
                )
            month_day = date_day(next_first)


def _one_payment(
    b: EntityBuilder,
    rng: Any,
    card: CardSpec,
    saved: str,
    provider: Provider,
    account: str,
    period: str,
    amount: int,
    created: int,
    initiated_by: str,
) -> None:
    payment_id = stable_token("pay_", b.seed, b.customer_id, saved, period, length=14)
    record = {
        "id": payment_id,
        "invoice_id": f"{provider.code}{period.replace('-', '')}{digits(rng, 6)}",
        "saved_invoice_id": saved,
        "provider_code": provider.code,
        "provider_name": provider.name,
        "service": provider.service,
        "account_id": account,
        "period": period,
        "amount_minor": amount,
        "amount": fmt_minor(amount),
        "currency": "UZS",
        "card_token": card.token,
        "status": "processing",
        "initiated_by": initiated_by,
        "created_at": fmt_ts(created),
        "updated_at": fmt_ts(created),
    }
    entity = b.entity("utility_payments", payment_id)
    if not b.version(
        entity, created, record, "payment.created", {"status": "processing", "amount_minor": amount}
    ):
        return
    failed = rng.random() < 0.03
    done = created + rng.randrange(20, 6 * 3600)
    record.update(status="failed" if failed else "paid", updated_at=fmt_ts(done))
    b.version(entity, done, record, "payment.status_changed", {"status": record["status"]})
    b.card_tx(
        card,
        make_tx(
            created,
            f"tx_{payment_id}",
            "loan_repayment" if provider.service == "loan_repayment" else "utility",
            -amount,
            f"{provider.name}, account {account}",
            rev=done if failed else -1,
            merchant=provider.name,
            mcc=provider.mcc,
            city="Tashkent",
        ),
    )


def build_fx_conversions(b: EntityBuilder) -> None:
    rng = b.rng("fx")
    usd = b.usd_card()
    soum = b.soum_cards()
    if usd is None or not soum:
        return
    count = b.count(rng, b.monthly_rate * 3 / 35)
    for index, at in enumerate(sorted(b.random_instant(rng) for _ in range(count))):
        fx_id = stable_token("fx_", b.seed, b.customer_id, "fx", index, length=14)
        day = local_day(at)
        usd_cb = cb_rate(b.seed, "USD", day)
        if rng.random() < 0.3:
            ccy, country, city, merchant = rng.choice(ABROAD)
            cb = cb_rate(b.seed, ccy, day)
            rate_micro = div_half_up(cb * 1_005_000, usd_cb)
            bought = abroad_amount_minor(ccy, rng.random())
            sold = div_half_up(bought * rate_micro, 1_000_000)
            record = _fx_record(
                fx_id,
                at,
                "abroad",
                "buy",
                ccy,
                "USD",
                fmt_scaled(rate_micro, 6),
                fmt_scaled(div_half_up(cb * 1_000_000, usd_cb), 6),
                sold,
                "USD",
                bought,
                ccy,
                usd.token,
                None,
                country,
            )
            b.card_tx(
                usd,
                make_tx(
                    at,
                    f"tx_{fx_id}",
                    "purchase",
                    -sold,
                    f"{merchant}, {city} ({ccy} {fmt_minor(bought)})",
                    post=at + rng.randrange(3600, 2 * DAY),
                    merchant=merchant,
                    mcc="5411",
                    city=city,
                ),
            )
        else:
            buying = rng.random() < 0.7
            spread = 10_050 if buying else 9_950
            rate_h = div_half_up(usd_cb * spread, 10_000)
            cents = rng.randrange(5, 100) * 1_000
            tiyin = div_half_up(cents * rate_h, 100)
            source = soum[0]
            sell, sell_ccy, buy, buy_ccy = (
                (tiyin, "UZS", cents, "USD") if buying else (cents, "USD", tiyin, "UZS")
            )
            from_card, to_card = (source, usd) if buying else (usd, source)
            record = _fx_record(
                fx_id,
                at,
                "home",
                "buy" if buying else "sell",
                "USD",
                "UZS",
                fmt_scaled(rate_h, 2),
                fmt_scaled(usd_cb, 2),
                sell,
                sell_ccy,
                buy,
                buy_ccy,
                from_card.token,
                to_card.token,
                None,
            )
            b.card_tx(
                from_card,
                make_tx(at, f"tx_{fx_id}_o", "fx", -sell, f"Currency exchange {sell_ccy}->{buy_ccy}"),
            )
            b.card_tx(
                to_card, make_tx(at, f"tx_{fx_id}_i", "fx", buy, f"Currency exchange {sell_ccy}->{buy_ccy}")
            )
        entity = b.entity("fx_conversions", fx_id)
        b.version(
            entity,
            at,
            record,
            "fx.conversion",
            {
                "sell_amount_minor": record["sell_amount_minor"],
                "buy_amount_minor": record["buy_amount_minor"],
            },
        )


def _fx_record(
    fx_id: str,
    at: int,
    location: str,
    side: str,
    base: str,
    quote: str,
    rate: str,
    cb: str,
    sell: int,
    sell_ccy: str,
    buy: int,
    buy_ccy: str,
    from_token: str,
    to_token: str | None,
    country: str | None,
) -> dict[str, Any]:
    return {
        "id": fx_id,
        "occurred_at": fmt_ts(at),
        "location": location,
        "side": side,
        "base_currency": base,
        "quote_currency": quote,
        "rate": rate,
        "cb_rate": cb,
        "sell_amount_minor": sell,
        "sell_currency": sell_ccy,
        "buy_amount_minor": buy,
        "buy_currency": buy_ccy,
        "from_card_token": from_token,
        "to_card_token": to_token,
        "merchant_country": country,
    }
