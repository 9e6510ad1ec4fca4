"""Money conversions with integers only; PAN masking, Luhn scrubbing and PII modes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trastpay.masking import PiiPolicy, luhn_valid, mask_pan, scrub_pans
from trastpay.money import INT64_MAX, INT64_MIN, decimal_to_minor, minor_to_decimal

from .builders import VALID_PAN, luhn_complete


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (-15200000, "UZS", "-152000.00"),
        (38000, "UZS", "380.00"),
        (5, "USD", "0.05"),
        (-5, "EUR", "-0.05"),
        (0, "RUB", "0.00"),
        (5_000_000_000, "UZS", "50000000.00"),
    ],
)
def test_given_minor_units_when_formatting_then_exact_decimal_string(
    minor: int, currency: str, text: str
) -> None:
    assert minor_to_decimal(minor, currency) == text
    assert decimal_to_minor(text, currency) == minor


@given(st.integers(min_value=INT64_MIN, max_value=INT64_MAX))
def test_given_any_int64_when_round_tripping_then_value_is_unchanged(minor: int) -> None:
    assert decimal_to_minor(minor_to_decimal(minor, "UZS"), "UZS") == minor


@pytest.mark.parametrize("bad", [1.5, True, "100"])
def test_given_non_int_minor_when_formatting_then_type_error(bad: object) -> None:
    with pytest.raises(TypeError):
        minor_to_decimal(bad, "UZS")  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["1.005", "abc", "1e5", "", "--1.00"])
def test_given_bad_decimal_when_parsing_then_value_error_instead_of_rounding(bad: str) -> None:
    with pytest.raises(ValueError, match="decimal"):
        decimal_to_minor(bad, "UZS")


def test_given_unknown_currency_when_converting_then_error_names_it() -> None:
    with pytest.raises(ValueError, match="XYZ"):
        minor_to_decimal(100, "XYZ")


def test_given_trailing_zero_fraction_when_parsing_then_accepted() -> None:
    assert decimal_to_minor("1.500", "UZS") == 150


def test_given_int64_overflow_when_formatting_then_value_error() -> None:
    with pytest.raises(ValueError, match="int64"):
        minor_to_decimal(INT64_MAX + 1, "UZS")


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("8600301234566312", "860030******6312"),
        ("8600 3012 3456 6312", "860030******6312"),
        ("860030******6311", "860030******6311"),
        ("8600****4421", "8600****4421"),
        ("86003012****6311", "860030******6311"),
        ("4111111111111111111", "411111*********1111"),
    ],
)
def test_given_pan_like_value_when_masking_then_at_most_six_and_four_digits_remain(
    value: str, masked: str
) -> None:
    result = mask_pan(value)
    assert result == masked
    assert sum(ch.isdigit() for ch in result) <= 10


@pytest.mark.parametrize(
    ("digits", "valid"), [(VALID_PAN, True), ("8600301234566311", False), ("12a4", False)]
)
def test_given_digits_when_luhn_checking_then_scheme_rule_applies(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


def test_given_text_with_pans_when_scrubbing_then_only_luhn_valid_runs_are_masked() -> None:
    text = f"paid from {VALID_PAN}, ref 8600301234566311, card 8600-3012-3456-6312, acct 20208000123456789012"
    scrubbed = scrub_pans(text)
    assert VALID_PAN not in scrubbed
    assert "860030******6312" in scrubbed
    assert "8600301234566311" in scrubbed
    assert "8600-3012-3456-6312" not in scrubbed
    assert "20208000123456789012" in scrubbed


def test_given_timestamps_and_amounts_when_scrubbing_then_unchanged() -> None:
    text = "2026-03-04T13:22:05+05:00 2026-03-05 152000.00 +998901234567"
    assert scrub_pans(text) == text


@given(st.text(alphabet="0123456789", min_size=15, max_size=15), st.text(max_size=20), st.text(max_size=20))
def test_given_any_luhn_valid_16_digits_in_text_when_scrubbing_then_never_survives(
    prefix: str, before: str, after: str
) -> None:
    pan = luhn_complete(prefix)
    text = f"{before} {pan} {after}"
    assert pan not in scrub_pans(text)


def test_given_hash_mode_when_applying_then_stable_keyed_hmac() -> None:
    policy = PiiPolicy("hash", "pii-hash-key-0123456789")
    first = policy.apply("Aziz Rakhimov")
    assert isinstance(first, str)
    assert first.startswith("hmac:")
    assert len(first) == 5 + 64
    assert first == policy.apply("Aziz Rakhimov")
    assert first != PiiPolicy("hash", "another-key-0123456789").apply("Aziz Rakhimov")
    assert policy.apply(None) is None


def test_given_keep_and_drop_modes_when_applying_then_value_kept_or_nulled() -> None:
    assert PiiPolicy("keep").apply("Aziz") == "Aziz"
    assert PiiPolicy("drop").apply("Aziz") is None


def test_given_hash_mode_without_key_when_building_then_refused() -> None:
    with pytest.raises(ValueError, match="pii_hash_key"):
        PiiPolicy("hash", None)
