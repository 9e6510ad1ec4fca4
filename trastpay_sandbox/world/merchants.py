"""What card activity is made of: merchant categories, amounts and cashback partners.

Names are real Uzbek brands used as plausible counterparties for synthetic data; amounts, weights
and cashback rates are reasoned guesses (see DOMAIN.md, "Realistic synthetic activity").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

CITIES = ("Tashkent", "Tashkent", "Tashkent", "Samarkand", "Bukhara", "Namangan", "Andijan", "Fergana")


@dataclass(frozen=True, slots=True)
class Category:
    """One kind of card operation: type, MCC, merchants ``(name, cashback partner)`` and amounts.

    Amounts are drawn log-normally around ``median_major`` (whole major units), clamped to
    ``[low_major, high_major]``; ``cashback_bp`` applies at partner merchants on Trastbank cards.
    """

    key: str
    tx_type: str
    mcc: str | None
    merchants: tuple[tuple[str, bool], ...]
    median_major: int
    sigma: float
    low_major: int
    high_major: int
    weight: int
    is_hold: bool
    cashback_bp: int = 0
    round_to: int = 100


SOUM_CATEGORIES: tuple[Category, ...] = (
    Category(
        "groceries",
        "purchase",
        "5411",
        (
            ("Korzinka", True),
            ("Makro", True),
            ("Havas", False),
            ("Carrefour", False),
            ("Baraka Market", False),
        ),
        120_000,
        0.8,
        8_000,
        2_500_000,
        22,
        True,
        100,
    ),
    Category(
        "fast_food",
        "purchase",
        "5814",
        (
            ("Evos", True),
            ("Max Way", True),
            ("Oqtepa Lavash", False),
            ("KFC", False),
            ("Bellissimo Pizza", False),
        ),
        60_000,
        0.6,
        12_000,
        600_000,
        11,
        True,
        200,
    ),
    Category(
        "taxi",
        "purchase",
        "4121",
        (("Yandex Go", False), ("MyTaxi", True)),
        25_000,
        0.5,
        8_000,
        250_000,
        8,
        True,
        100,
    ),
    Category(
        "marketplace",
        "purchase",
        "5399",
        (("Uzum Market", True), ("Wildberries", False), ("OLX", False)),
        250_000,
        0.9,
        20_000,
        8_000_000,
        6,
        True,
        50,
    ),
    Category(
        "pharmacy",
        "purchase",
        "5912",
        (("Arzon Apteka", True), ("Oxy Med", False), ("Dori-Darmon", False)),
        70_000,
        0.7,
        5_000,
        900_000,
        4,
        True,
        50,
    ),
    Category(
        "fuel",
        "purchase",
        "5541",
        (("Mustang AZS", False), ("Lukoil", False), ("UzGasTrade", False)),
        200_000,
        0.5,
        40_000,
        900_000,
        4,
        True,
    ),
    Category(
        "mobile",
        "mobile",
        "4814",
        (("Beeline", False), ("Ucell", False), ("Mobiuz", False), ("Uzmobile", False)),
        40_000,
        0.5,
        5_000,
        200_000,
        5,
        False,
    ),
    Category(
        "cash",
        "cash_withdrawal",
        "6011",
        (("ATM Trastbank", False), ("ATM Kapitalbank", False), ("ATM NBU", False)),
        600_000,
        0.7,
        100_000,
        5_000_000,
        5,
        False,
        round_to=100_000,
    ),
)

USD_CATEGORIES: tuple[Category, ...] = (
    # MCCs per ISO 18245: 5399 miscellaneous general merchandise (marketplaces), 5818 digital goods,
    # 4511 airlines, 7011 lodging (hotel bookings).
    Category(
        "online_abroad",
        "purchase",
        "5399",
        (("Amazon", False), ("AliExpress", False)),
        40,
        0.9,
        2,
        1_500,
        40,
        True,
        0,
        1,
    ),
    Category(
        "digital_abroad",
        "purchase",
        "5818",
        (("Apple.com", False), ("Netflix", False), ("Spotify", False)),
        10,
        0.6,
        1,
        120,
        20,
        True,
        0,
        1,
    ),
    Category(
        "airlines",
        "purchase",
        "4511",
        (("Turkish Airlines", False), ("Uzbekistan Airways", False)),
        260,
        0.6,
        40,
        2_500,
        6,
        True,
        0,
        1,
    ),
    Category(
        "lodging",
        "purchase",
        "7011",
        (("Booking.com", False),),
        150,
        0.7,
        20,
        2_000,
        4,
        True,
        0,
        1,
    ),
    Category(
        "cash_usd",
        "cash_withdrawal",
        "6011",
        (("ATM Trastbank", False),),
        200,
        0.5,
        50,
        1_000,
        10,
        False,
        0,
        50,
    ),
)

VIRTUAL_CATEGORIES: tuple[Category, ...] = (
    Category(
        "vmarketplace",
        "purchase",
        "5399",
        (("Uzum Market", True), ("Wildberries", False), ("OLX", False), ("Yandex Eats", False)),
        180_000,
        0.8,
        15_000,
        3_000_000,
        80,
        True,
        50,
    ),
    Category(
        "vstreaming",
        "purchase",
        "4899",
        (("Kinopoisk", False), ("Spotify", False)),
        45_000,
        0.2,
        20_000,
        120_000,
        10,
        True,
    ),
)

OWN_BANK_ATM = "ATM Trastbank"
"""The card issuer's own ATM network: cash withdrawals there are free."""
OWN_ATM_SHARE = 0.7
"""Share of cash withdrawals made at :data:`OWN_BANK_ATM` when the category offers other ATMs."""
OTHER_BANK_ATM_FEE_BP = 100
"""Fee for a withdrawal at another bank's ATM: 1 % of the amount (basis points, half-up to the tiyin)."""


@cache
def atm_networks(merchants: tuple[tuple[str, bool], ...]) -> tuple[int | None, tuple[int, ...]]:
    """Indexes into a cash category's ``merchants``: (the own-bank ATM or None, the other banks' ATMs).

    Found by name, so the ATM fee rule does not depend on the order the merchants are listed in.
    """
    own = next((i for i, (name, _) in enumerate(merchants) if name == OWN_BANK_ATM), None)
    return own, tuple(i for i, (name, _) in enumerate(merchants) if name != OWN_BANK_ATM)


def pick_atm(merchants: tuple[tuple[str, bool], ...], u: float) -> tuple[int, int]:
    """The ATM of one cash withdrawal from the uniform draw ``u``: (merchant index, fee in basis points).

    :data:`OWN_ATM_SHARE` of withdrawals (``u`` below it) use the own bank's ATM, free; the rest spread
    over the other banks' ATMs, which charge :data:`OTHER_BANK_ATM_FEE_BP`.
    """
    own, others = atm_networks(merchants)
    if own is not None and (u < OWN_ATM_SHARE or not others):
        return own, 0
    return others[int(u * 1000) % len(others)], OTHER_BANK_ATM_FEE_BP


DECLINE_REASONS = (
    "Insufficient funds",
    "Daily limit exceeded",
    "Incorrect PIN",
    "Suspected fraud",
    "Card blocked",
)

HOUR_WEIGHTS = (
    (8, 4),
    (9, 6),
    (10, 7),
    (11, 8),
    (12, 10),
    (13, 10),
    (14, 8),
    (15, 7),
    (16, 7),
    (17, 8),
    (18, 10),
    (19, 11),
    (20, 10),
    (21, 8),
    (22, 5),
)
