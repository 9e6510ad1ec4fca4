"""Card numbers, masking and the cards each customer links.

Full PANs exist only transiently inside :func:`masked_pan_for`: a Luhn-valid 16-digit number is
built from a real BIN and masked at once (first 6 + ``******`` + last 4); nothing else keeps it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from trastpay_sandbox.world.people import random_person
from trastpay_sandbox.world.rng import digits, rng_for, stable_int, stable_token

TRASTBANK = "Trastbank"
TRASTBANK_MFO = "00491"
TRASTBANK_UZCARD_BIN = "860030"
TRASTBANK_HUMO_BIN = "986018"
TRASTBANK_VISA_BIN = "409784"
TRASTBANK_MASTERCARD_BIN = "532154"
"""Synthetic guess: no public source for Trastbank's MasterCard BIN; 53xxxx is MasterCard's range."""

# Other banks' BINs (UZCARD, HUMO) for counterparties and cards linked from other banks.
OTHER_BANKS: tuple[tuple[str, str | None, str], ...] = (
    ("NBU", "860002", "986012"),
    ("SQB", "860003", "986002"),
    ("Xalq banki", "860006", "986008"),
    ("Hamkorbank", "860012", "986016"),
    ("Kapitalbank", "860049", "986010"),
    ("TBC Bank", "860062", "986035"),
    ("Anorbank", None, "986060"),
)


def luhn_check_digit(body: str) -> str:
    total = 0
    for index, char in enumerate(reversed(body)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def mask_pan(pan: str) -> str:
    """``8600301234566311`` -> ``860030******6311``."""
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def masked_pan_for(rng: random.Random, bin_: str) -> str:
    """A masked view of a fresh Luhn-valid 16-digit PAN under ``bin_``; the PAN itself is dropped."""
    body = bin_ + digits(rng, 9)
    return mask_pan(body + luhn_check_digit(body))


@dataclass(frozen=True, slots=True)
class Counterparty:
    """Someone a customer sends money to or receives it from (a card at some bank)."""

    name: str
    bank: str
    rail: str
    pan_masked: str
    is_trastbank: bool


def random_counterparty(rng: random.Random) -> Counterparty:
    person = random_person(rng)
    if rng.random() < 0.3:
        rail = "HUMO" if rng.random() < 0.6 else "UZCARD"
        bin_ = TRASTBANK_HUMO_BIN if rail == "HUMO" else TRASTBANK_UZCARD_BIN
        return Counterparty(person.name, TRASTBANK, rail, masked_pan_for(rng, bin_), True)
    bank, uzcard, humo = rng.choice(OTHER_BANKS)
    rail = "HUMO" if uzcard is None or rng.random() < 0.6 else "UZCARD"
    other_bin = humo if rail == "HUMO" else uzcard
    assert other_bin is not None
    return Counterparty(person.name, bank, rail, masked_pan_for(rng, other_bin), False)


@dataclass(frozen=True, slots=True)
class CardSpec:
    """A linked card: identity plus what drives its synthetic activity.

    ``kind`` is ``soum`` (UZCARD/HUMO), ``usd`` (the USD MasterCard) or ``virtual``.
    ``active_from``/``active_until`` bound its activity (epoch seconds, ``until`` exclusive).
    """

    token: str
    pan_masked: str
    bin: str
    rail: str
    currency: str
    bank_name: str
    bank_mfo: str | None
    holder_name: str
    expiry_month: str
    is_virtual: bool
    is_trastbank: bool
    linked_at: int
    kind: str
    weight: float
    opening_balance_minor: int
    index: int
    active_from: int
    active_until: int


def _bin_for(rail: str, trastbank: bool, rng: random.Random) -> tuple[str, str, str | None]:
    if trastbank:
        bins = {
            "UZCARD": TRASTBANK_UZCARD_BIN,
            "HUMO": TRASTBANK_HUMO_BIN,
            "VISA": TRASTBANK_VISA_BIN,
            "MASTERCARD": TRASTBANK_MASTERCARD_BIN,
        }
        return bins[rail], TRASTBANK, TRASTBANK_MFO
    choices = [b for b in OTHER_BANKS if rail == "HUMO" or b[1] is not None]
    bank, uzcard, humo = rng.choice(choices)
    bin_ = humo if rail == "HUMO" else uzcard
    assert bin_ is not None
    return bin_, bank, None


def make_cards(
    seed: int,
    customer_id: str,
    holder: str,
    history_start: int,
    horizon_end: int,
    count: int | None = None,
) -> list[CardSpec]:
    """1-3 soum cards (about 60 % HUMO, 40 % UZCARD; the first is Trastbank's) and 0-1 USD Visa or MasterCard.

    ``count`` forces exactly that many soum cards and no USD card (load scenarios).
    """
    rng = rng_for(seed, "cards", customer_id)
    soum_count = rng.choices((1, 2, 3), weights=(45, 35, 20))[0]
    with_usd = rng.random() < 0.45
    if count is not None:
        soum_count, with_usd = count, False
    specs: list[CardSpec] = []
    for index in range(soum_count + (1 if with_usd else 0)):
        usd = index == soum_count
        rail = usd_brand(seed, customer_id) if usd else ("HUMO" if rng.random() < 0.6 else "UZCARD")
        trastbank = usd or index == 0 or rng.random() < 0.4
        bin_, bank, mfo = _bin_for(rail, trastbank, rng)
        linked_at = history_start - rng.randrange(30, 900) * 86_400 - rng.randrange(86_400)
        weight = (0.25 if usd else (1.0 if index == 0 else 0.5)) * (0.8 + 0.4 * rng.random())
        opening = rng.randrange(50_000, 600_000) if usd else rng.randrange(500_000, 8_000_000) * 100
        specs.append(
            CardSpec(
                token=stable_token("crd_", seed, customer_id, "card", index),
                pan_masked=masked_pan_for(rng, bin_),
                bin=bin_,
                rail=rail,
                currency="USD" if usd else "UZS",
                bank_name=bank,
                bank_mfo=mfo,
                holder_name=holder,
                expiry_month=f"{2028 + rng.randrange(4)}-{rng.randrange(1, 13):02d}",
                is_virtual=False,
                is_trastbank=trastbank,
                linked_at=linked_at,
                kind="usd" if usd else "soum",
                weight=weight,
                opening_balance_minor=opening,
                index=index,
                active_from=history_start,
                active_until=horizon_end,
            )
        )
    return specs


def usd_brand(seed: int, customer_id: str) -> str:
    """The scheme of a customer's USD card: Trastbank issues both Visa (BIN 409784) and MasterCard
    USD cards; half and half, stable per seed and customer."""
    return "VISA" if stable_int(seed, customer_id, "usd-card-brand") % 2 == 0 else "MASTERCARD"


def make_contacts(seed: int, customer_id: str, count: int = 24) -> list[Counterparty]:
    rng = rng_for(seed, "contacts", customer_id)
    return [random_counterparty(rng) for _ in range(count)]
