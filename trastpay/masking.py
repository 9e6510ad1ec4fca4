"""Card-number masking and personal-data handling for records and logs.

A full PAN must never leave the connector: fields named like ``*pan*`` are forced to at most the
first 6 and last 4 digits, and every other string is scanned for Luhn-valid 13-19 digit runs
(contiguous or in groups separated by single spaces or dashes) which are masked in place.
Personal names and phone numbers
follow the configured ``pii_mode``: kept, replaced by a keyed HMAC (stable for joins, not
reversible without the key), or dropped (null).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Literal

PiiMode = Literal["keep", "hash", "drop"]
"""What happens to personal names and phone numbers: kept, keyed-HMAC hashed, or dropped (null)."""

_PAN_CANDIDATE = re.compile(
    r"(?<![0-9])(?:[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{2,6}){1,3}[ -][0-9]{1,7})(?![0-9])"
)
"""A contiguous run, or groups as people type them (4-4-4-4, 4-4-4-1 for 13 digits, 4-4-4-4-3 for
19, 4-6-5...); :func:`_mask_match` then insists on 13-19 digits that pass Luhn."""
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
MASKED_PAN = re.compile(r"^[0-9]{0,6}\*+[0-9]{0,4}$")
"""A card number already masked: at most the first 6 and the last 4 digits left, stars between."""
_SEPARATORS = str.maketrans("", "", " -")


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` (only 0-9) passes the Luhn check used by every card scheme."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mask_pan(value: str) -> str:
    """Mask a card number to at most the first 6 and last 4 digits.

    An already masked value (``860030******6311``, ``8600****4421``) comes back unchanged; spaces
    and dashes are removed; any digit between the first 6 and the last 4 characters becomes ``*``.
    """
    compact = value.translate(_SEPARATORS)
    if MASKED_PAN.match(compact):
        return compact
    if len(compact) <= 4:
        return "*" * len(compact)
    if len(compact) < 10:
        head, middle, tail = "", compact[:-4], compact[-4:]
    else:
        head, middle, tail = compact[:6], compact[6:-4], compact[-4:]
    return head + "".join("*" if ch.isdigit() else ch for ch in middle) + tail


def _mask_match(match: re.Match[str]) -> str:
    digits = match.group(0).translate(_SEPARATORS)
    if not 13 <= len(digits) <= 19 or not luhn_valid(digits):
        return match.group(0)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def might_contain_pan(text: str) -> bool:
    """Cheap pre-check: does ``text`` hold 13+ digits in a row (spaces and dashes ignored)?

    Byte translation plus a substring search runs in C at memory speed, about ten times faster
    than the regex; false positives only cost the exact scan in :func:`scrub_pans`.
    """
    raw = text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZERO, b" -")
    return b"0000000000000" in raw


def might_hold_pan(raw: bytes) -> bool:
    """Page-level pre-check on a raw JSON body: 13+ digits in a row (spaces/dashes ignored) or an
    escaped digit? ``False`` proves no string of the page can hold a card number."""
    if b"\\u003" in raw:
        return True
    return b"0000000000000" in raw.translate(_DIGITS_AS_ZERO, b" -")


def scrub_pans(text: str) -> str:
    """Mask every Luhn-valid 13-19 digit run in ``text``; other digits are left alone."""
    if _PAN_CANDIDATE.search(text) is None:
        return text
    return _PAN_CANDIDATE.sub(_mask_match, text)


class PiiPolicy:
    """Applies ``pii_mode`` to one personal-data value."""

    __slots__ = ("_key", "mode")

    def __init__(self, mode: PiiMode, hash_key: str | None = None) -> None:
        if mode == "hash" and not hash_key:
            raise ValueError("pii_mode 'hash' needs a pii_hash_key")
        self.mode: PiiMode = mode
        self._key = (hash_key or "").encode("utf-8")

    def apply(self, value: object) -> object:
        """The value to emit: unchanged (keep), ``"hmac:<hex>"`` (hash) or ``None`` (drop)."""
        if value is None or self.mode == "keep":
            return value
        if self.mode == "drop":
            return None
        text = value if isinstance(value, str) else str(value)
        digest = hmac.new(self._key, text.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"hmac:{digest}"

    def __repr__(self) -> str:
        return f"PiiPolicy(mode={self.mode!r})"
