"""Exact money arithmetic in minor units (tiyin, cents): integers only, never a float.

Rounding rule everywhere in the world: half-up (away from zero for negatives) to the minor unit,
computed with integer arithmetic.
"""

from __future__ import annotations


def fmt_minor(minor: int) -> str:
    """``-15200000`` -> ``"-152000.00"`` (exponent 2 for UZS, USD, EUR, RUB)."""
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 100)
    return f"{sign}{whole}.{frac:02d}"


def div_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half-up (half away from zero); denominator > 0."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def apply_rate_bp(amount_minor: int, rate_basis_points: int) -> int:
    """``amount * rate`` with the rate in hundredths of a percent (25 = 0.25 %), half-up."""
    return div_half_up(amount_minor * rate_basis_points, 10_000)


def rate_fraction(rate_basis_points: int) -> str:
    """25 -> ``"0.0025"``: a basis-point rate as the decimal fraction string the schemas use."""
    return f"{rate_basis_points // 10_000}.{rate_basis_points % 10_000:04d}"


def fmt_scaled(value: int, places: int) -> str:
    """An integer holding ``places`` decimals as a decimal string: (1290490, 2) -> ``"12904.90"``."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**places)
    return f"{sign}{whole}.{frac:0{places}d}" if places else f"{sign}{whole}"
