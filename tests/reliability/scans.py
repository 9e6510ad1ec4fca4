"""Leak scanners for connector output: unmasked card numbers, secrets and stack traces.

The PAN scanner is deliberately independent of :mod:`trastpay.masking` (a scanner that shares
the masker's regex would share its blind spots): it walks every digit run, allowing one space or
dash between digits, and reports each 13-19 digit window that passes Luhn. Known non-card numbers
of the protocols (Airbyte's ``emitted_at`` milliseconds) are blanked before scanning, and nothing
else is exempt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

_DIGIT_RUN = re.compile(r"(?<![0-9]\.)(?<![0-9])[0-9](?:[ -]?[0-9])*(?![0-9]|\.[0-9])")
"""A digit run with single spaces or dashes inside; not the fraction or the integer part of a
decimal number (the SDKs log durations like ``0.01255664062500123``)."""
_PROTOCOL_NUMBERS = re.compile(r'"(?:emitted_at|emittedAt)"\s*:\s*[0-9.]+(?:[eE][+-]?[0-9]+)?')
_DIGESTS = re.compile(
    r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])|(?<=\"request_hash\":\")[0-9a-f]{16}(?=\")"
)
"""Hex digests (the tap's sha256 seed fingerprint, the audit line's 16-hex-digit ``request_hash``):
their decimal stretches are not card numbers (a hash of 13+ decimal digits that passes Luhn made
this scan fail about once in thirty runs)."""
TRACEBACK_MARK = "Traceback (most recent call last)"


def luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def find_pans(text: str) -> list[str]:
    """Every Luhn-valid 13-19 digit card number in ``text`` (digits only), contiguous or grouped.

    A digit run may hold single spaces or dashes between digits; a run of more than 19 digits is
    not a card number (account numbers have 20), as for the masker.
    """
    cleaned = _DIGESTS.sub("<digest>", _PROTOCOL_NUMBERS.sub('"emitted_at":0', text))
    found: list[str] = []
    for match in _DIGIT_RUN.finditer(cleaned):
        digits = re.sub(r"[ -]", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn(digits):
            found.append(digits)
    return found


def find_planted(text: str, pans: Iterable[str]) -> list[str]:
    """Which of the known full ``pans`` occur in ``text`` (also grouped with spaces or dashes)."""
    compact = re.sub(r"(?<=[0-9])[ -](?=[0-9])", "", text)
    return [pan for pan in pans if pan in compact]


@dataclass(frozen=True)
class Leak:
    """One secret found where it must not be: which kind, and in which output."""

    kind: str
    where: str


def find_secrets(outputs: Mapping[str, str], secrets: Mapping[str, Iterable[str]]) -> list[Leak]:
    """Every (kind of secret, output name) where a secret value occurs.

    ``outputs``: name -> text (``"stdout"``, ``"stderr"``, ``"state"``, a file name...).
    ``secrets``: kind -> values (``"refresh_token"``, ``"access_token"``, ``"otp"``). OTPs are
    short digit strings, so they only count as a whole digit run (not inside a longer number).
    """
    leaks: list[Leak] = []
    for kind, values in secrets.items():
        for value in values:
            if not value:
                continue
            pattern = (
                re.compile(rf"(?<![0-9]){re.escape(value)}(?![0-9])")
                if value.isdigit()
                else re.compile(re.escape(value))
            )
            for where, text in outputs.items():
                if pattern.search(text):
                    leaks.append(Leak(kind, where))
    return leaks


def files_text(paths: Iterable[Path]) -> dict[str, str]:
    """``{file name: content}`` of every existing file among ``paths`` (for scans of logs and stores)."""
    return {
        str(path): path.read_bytes().decode("utf-8", errors="replace") for path in paths if path.is_file()
    }


__all__ = ["TRACEBACK_MARK", "Leak", "files_text", "find_pans", "find_planted", "find_secrets", "luhn"]
