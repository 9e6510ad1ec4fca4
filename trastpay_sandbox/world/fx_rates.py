"""Central-Bank-like exchange rates: a bounded, deterministic drift per currency and banking day.

Rates are integers in hundredths of a soum per ``Nominal`` units, shaped by two slow waves and a
little daily noise, so they stay in the observed ranges (USD 12,000-12,900; EUR 14,000-14,800;
RUB 148-162). Weekends carry Friday's rate, like the published feed.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from trastpay_sandbox.world.clock import day_date
from trastpay_sandbox.world.money import fmt_scaled
from trastpay_sandbox.world.rng import rng_for, stable_int

# code, ccy, english name, nominal, centre, wave amplitudes (all in hundredths of a soum)
CURRENCIES: tuple[tuple[str, str, str, int, int, int, int], ...] = (
    ("840", "USD", "US Dollar", 1, 1_245_000, 30_000, 10_000),
    ("978", "EUR", "Euro", 1, 1_440_000, 27_000, 9_000),
    ("643", "RUB", "Russian Ruble", 1, 15_500, 450, 180),
    ("826", "GBP", "Pound Sterling", 1, 1_650_000, 35_000, 12_000),
    ("156", "CNY", "Yuan Renminbi", 1, 172_000, 4_000, 1_500),
    ("398", "KZT", "Kazakhstan Tenge", 1, 2_450, 90, 40),
)
_BY_CCY = {c[1]: c for c in CURRENCIES}


def banking_day(day: int) -> int:
    """The day whose published rate applies on ``day`` (Saturday and Sunday use Friday's)."""
    weekday = day_date(day).weekday()
    return day - (weekday - 4) if weekday > 4 else day


@lru_cache(maxsize=65_536)
def _raw_rate(seed: int, ccy: str, day: int) -> int:
    _, _, _, _, centre, wave1, wave2 = _BY_CCY[ccy]
    phase = stable_int(seed, "fx-phase", ccy) % 10_000 / 10_000 * 2 * math.pi
    noise = rng_for(seed, "fx-noise", ccy, day).uniform(-1.0, 1.0) * wave2 * 0.15
    value = centre + wave1 * math.sin(day / 97 + phase) + wave2 * math.sin(day / 23 + 2 * phase) + noise
    return round(value)


def cb_rate(seed: int, ccy: str, day: int) -> int:
    """The Central Bank rate of ``ccy`` effective on ``day`` in hundredths of a soum per unit."""
    if ccy == "UZS":
        return 100
    return _raw_rate(seed, ccy, banking_day(day))


def cbu_rates(seed: int, day: int) -> list[dict[str, Any]]:
    """The feed for one day: ``Code``, ``Ccy``, ``Nominal``, ``Rate`` and ``Diff`` as strings, ``Date``."""
    effective = banking_day(day)
    previous = banking_day(effective - 1)
    out = []
    for index, (code, ccy, name, nominal, *_rest) in enumerate(CURRENCIES, start=1):
        rate = _raw_rate(seed, ccy, effective)
        out.append(
            {
                "id": index,
                "Code": code,
                "Ccy": ccy,
                "CcyNm_EN": name,
                "Nominal": str(nominal),
                "Rate": fmt_scaled(rate, 2),
                "Diff": fmt_scaled(rate - _raw_rate(seed, ccy, previous), 2),
                "Date": day_date(effective).strftime("%d.%m.%Y"),
            }
        )
    return out
