"""Money as integers in minor units, and the readable decimal strings next to them.

Minor units (tiyin, cents, kopecks) are the truth; a decimal string such as ``"-152000.00"`` is a
convenience for warehouses and accounting formats. Conversion uses integer arithmetic only, so no
binary float ever touches an amount.
"""

from __future__ import annotations

import re

CURRENCY_EXPONENTS: dict[str, int] = {
    "UZS": 2, "USD": 2, "EUR": 2, "RUB": 2,  # cards, deposits and FX at home
    "GBP": 2, "KZT": 2, "CNY": 2, "TRY": 2, "AED": 2, "CHF": 2, "KGS": 2, "TJS": 2,  # FX abroad
    "JPY": 0, "KRW": 0,
}  # fmt: skip
"""ISO 4217 minor-unit digits of the currencies Trastpay data carries."""

_DECIMAL = re.compile(r"^(-?)([0-9]+)(?:\.([0-9]+))?$")
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def exponent(currency: str) -> int:
    """Number of minor-unit digits of ``currency``; raises ``ValueError`` for an unknown code."""
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        known = ", ".join(sorted(CURRENCY_EXPONENTS))
        raise ValueError(f"Unknown currency '{currency}' (known: {known})") from None


def _check_int64(minor: int) -> None:
    if not INT64_MIN <= minor <= INT64_MAX:
        raise ValueError("amount in minor units does not fit in int64")


def minor_to_decimal(minor: int, currency: str) -> str:
    """``-15200000, "UZS"`` -> ``"-152000.00"``. Accepts only a true ``int`` (no bool, no float)."""
    if type(minor) is not int:
        raise TypeError(f"minor units must be an int, not {type(minor).__name__}")
    _check_int64(minor)
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    if places == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{places}d}"


def decimal_to_minor(amount: str, currency: str) -> int:
    """``"-152000.00", "UZS"`` -> ``-15200000``.

    Raises ``ValueError`` for anything that is not a plain decimal string or that has more
    fraction digits than the currency allows (rounding money silently is never right).
    """
    if not isinstance(amount, str):
        raise TypeError(f"amount must be a decimal string, not {type(amount).__name__}")
    match = _DECIMAL.match(amount.strip())
    if match is None:
        raise ValueError(f"'{amount}' is not a decimal amount like 152000.00")
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    places = exponent(currency)
    if len(fraction) > places:
        if fraction[places:].strip("0"):
            raise ValueError(f"'{amount}' has more than {places} decimal places for {currency}")
        fraction = fraction[:places]
    minor: int = int(whole) * 10**places + int(fraction.ljust(places, "0") or "0")
    result = -minor if sign else minor
    _check_int64(result)
    return result
