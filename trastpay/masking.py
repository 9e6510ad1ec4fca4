"""Card-number masking and personal-data handling for records and logs.

A full PAN must never leave the connector: fields named like ``*pan*`` are forced to at most the
first 6 and last 4 digits, and every other string is scanned for Luhn-valid 13-19 digit runs
(contiguous or in groups separated by single spaces, dashes or dots) which are masked in place.
Text a server chose (problem titles, details, slugs, request ids) goes through
:func:`clean_server_text` before it enters any message: masked, control characters removed,
length capped. Personal names and phone numbers
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

_PAN_CANDIDATE = re.compile(r"(?<![0-9])(?<![0-9][ .-])[0-9](?:[ .-]?[0-9]){12,}(?![0-9])(?![ .-][0-9])")
"""A maximal run of 13+ digits with at most one space, dash or dot between two digits: contiguous,
or in groups as people type them (4-4-4-4, 4-6-5, 8600.3012...). Each start is tried once (the
look-behinds reject positions inside a run), so the scan stays linear on long digit strings.
:func:`_mask_match` then insists on 13-19 digits that pass Luhn (or such a group-aligned window)."""
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_SEPARATOR_BYTES = b" -."
_DIGITS_AND_SEPARATORS_AS_ZERO = bytes.maketrans(b"123456789 -.", b"000000000000")
_THIRTEEN = b"0000000000000"
_ZERO_RUN = re.compile(b"0+")
MASKED_PAN = re.compile(r"^[0-9]{0,6}\*+[0-9]{0,4}$")
"""A card number already masked: at most the first 6 and the last 4 digits left, stars between."""
_SEPARATORS = str.maketrans("", "", " -.")
_GROUP_SPLIT = re.compile(r"[ .-]")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+")
"""C0/C1 controls (escape codes, forged newlines), zero-width, bidi and line-separator characters."""
SERVER_TEXT_LIMIT = 200
"""Characters of one server-chosen text (a problem title, detail, slug) kept in a message."""


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


def _holds_card_number(run: str, digits: str) -> bool:
    """13-19 Luhn-valid digits, or (a grouped run) a group-aligned window of 13-19 that is.

    A contiguous run counts only whole: 20+ digits in a row are an account number, not a card.
    """
    if len(digits) < 13:
        return False
    if len(digits) <= 19 and luhn_valid(digits):
        return True
    if digits == run:
        return False
    groups = [group for group in _GROUP_SPLIT.split(run) if group]
    for first in range(len(groups)):
        window = ""
        for group in groups[first:]:
            window += group
            if len(window) > 19:
                break
            if len(window) >= 13 and luhn_valid(window):
                return True
    return False


def _mask_match(match: re.Match[str]) -> str:
    run = match.group(0)
    digits = run.translate(_SEPARATORS)
    if not _holds_card_number(run, digits):
        return run
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def might_contain_pan(text: str) -> bool:
    """Cheap pre-check: does ``text`` hold 13+ digits in a row (spaces, dashes and dots ignored)?

    Byte translation plus a substring search runs in C at memory speed, about ten times faster
    than the regex; false positives only cost the exact scan in :func:`scrub_pans`.
    """
    raw = text.encode("utf-8", "surrogatepass").translate(_DIGITS_AS_ZERO, _SEPARATOR_BYTES)
    return b"0000000000000" in raw


def might_hold_pan(raw: bytes) -> bool:
    """Page-level pre-check on a raw JSON body: 13+ digits in a row (spaces, dashes and dots
    ignored) or an escaped ASCII character (an escaped digit or separator could hide a run)?
    ``False`` proves no string of the page can hold a card number.

    Exactly :func:`_might_hold_pan_reference`, cheaper: a backslash is looked for first (memchr),
    and the digit rule is decided on runs of digits *and* separators (a table translation
    without deletion, about half the cost), counting the digits of only the few runs of 13+
    such characters (a space before a 12-digit account number makes one).
    """
    if b"\\" in raw and b"\\u00" in raw:
        return True
    runs = raw.translate(_DIGITS_AND_SEPARATORS_AS_ZERO)
    start = runs.find(_THIRTEEN)
    while start != -1:
        end = _ZERO_RUN.match(runs, start).end()  # type: ignore[union-attr]  # at least 13 zeros
        if len(raw[start:end].translate(None, _SEPARATOR_BYTES)) >= 13:
            return True
        start = runs.find(_THIRTEEN, end)
    return False


def _might_hold_pan_reference(raw: bytes) -> bool:
    """The rule :func:`might_hold_pan` implements, written plainly (kept for the equivalence tests)."""
    if b"\\u00" in raw:
        return True
    return _THIRTEEN in raw.translate(_DIGITS_AS_ZERO, _SEPARATOR_BYTES)


def scrub_pans(text: str) -> str:
    """Mask every Luhn-valid 13-19 digit run in ``text``; other digits are left alone."""
    if _PAN_CANDIDATE.search(text) is None:
        return text
    return _PAN_CANDIDATE.sub(_mask_match, text)


def clean_server_text(text: str, limit: int = SERVER_TEXT_LIMIT) -> str:
    """Server-chosen text made safe for a message: card numbers masked, control, zero-width and
    bidi characters turned into spaces (no escape codes, no forged log lines), at most ``limit``
    characters (a cut is marked with an ellipsis)."""
    cut = text[: limit * 2]
    cleaned = " ".join(_UNPRINTABLE.sub(" ", cut).split())
    cleaned = scrub_pans(cleaned)
    if len(cleaned) > limit or len(text) > len(cut):
        cleaned = cleaned[: limit - 1].rstrip() + "\u2026"
    return cleaned


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
