"""Trastpay webhook signatures: how a delivery is signed and how a receiver verifies it.

A delivery carries ``X-Trastpay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>``, with one extra ``v1=`` per older secret still in its rotation grace period.
Signing the timestamp together with the body lets a receiver refuse stale or future deliveries
without trusting any other header. Verification compares in constant time and its errors never
quote a secret or a full signature. The sandbox signs with these helpers and
:mod:`trastpay.webhook_receiver` verifies with them, so both sides share one definition.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence

SIGNATURE_HEADER = "X-Trastpay-Signature"
IDEMPOTENCY_HEADER = "X-Idempotency-Key"
EVENT_TYPE_HEADER = "X-Trastpay-Event"
DEFAULT_TOLERANCE_S = 300

_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_DIGITS = re.compile(r"[0-9]{1,12}")


class WebhookSignatureError(ValueError):
    """A webhook signature header failed verification; the subclass says why."""


class SignatureFormatError(WebhookSignatureError):
    """The header is not ``t=<unix seconds>,v1=<64 hex digits>[,v1=...]``."""


class SignatureTimestampError(WebhookSignatureError):
    """The signed timestamp is outside the tolerance: a stale (replayed) or future request."""


class SignatureMismatchError(WebhookSignatureError):
    """No ``v1`` signature matches the body under any of the receiver's secrets."""


def sign(secret: bytes | str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[bytes | str], timestamp: int, body: bytes) -> str:
    """The ``X-Trastpay-Signature`` value: one ``v1`` per secret, newest secret first."""
    if not secrets:
        raise ValueError("at least one secret is needed to sign a webhook")
    return ",".join([f"t={timestamp}", *(f"v1={sign(secret, timestamp, body)}" for secret in secrets)])


def parse_signature_header(header: str) -> tuple[int, list[str]]:
    """The timestamp and the ``v1`` signatures of a header; unknown schemes are ignored."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, separator, value = item.strip().partition("=")
        if not separator:
            raise SignatureFormatError(f"signature header part {key[:16]!r} is not key=value")
        if key == "t":
            if timestamp is not None or not _DIGITS.fullmatch(value):
                raise SignatureFormatError("signature header needs exactly one t=<unix seconds>")
            timestamp = int(value)
        elif key == "v1":
            if not _HEX_SHA256.fullmatch(value):
                raise SignatureFormatError("a v1 signature is not 64 lowercase hex digits")
            signatures.append(value)
    if timestamp is None:
        raise SignatureFormatError("signature header has no t=<unix seconds>")
    if not signatures:
        raise SignatureFormatError("signature header has no v1 signature")
    return timestamp, signatures


def verify_signature(
    header: str,
    body: bytes,
    secrets: Sequence[bytes | str],
    *,
    now: int,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
) -> tuple[int, str]:
    """Accept a delivery signed within ``tolerance_s`` of ``now`` by any of ``secrets``.

    Returns ``(timestamp, matching v1 signature)`` so a receiver can remember what it has seen.
    Raises SignatureFormatError, SignatureTimestampError or SignatureMismatchError (all
    ValueError). Every candidate is compared in constant time, and every secret is tried even
    after a match, so timing reveals neither which secret nor which entry matched.
    """
    if not secrets:
        raise ValueError("verify_signature needs at least one secret")
    timestamp, signatures = parse_signature_header(header)
    age = now - timestamp
    if age > tolerance_s:
        raise SignatureTimestampError(f"signature timestamp is {age} s old (tolerance {tolerance_s} s)")
    if -age > tolerance_s:
        raise SignatureTimestampError(
            f"signature timestamp is {-age} s in the future (tolerance {tolerance_s} s)"
        )
    matched: str | None = None
    for secret in secrets:
        expected = sign(secret, timestamp, body)
        for candidate in signatures:
            if hmac.compare_digest(expected, candidate) and matched is None:
                matched = candidate
    if matched is None:
        raise SignatureMismatchError("no v1 signature matches the body under the given secrets")
    return timestamp, matched


__all__ = [
    "DEFAULT_TOLERANCE_S",
    "EVENT_TYPE_HEADER",
    "IDEMPOTENCY_HEADER",
    "SIGNATURE_HEADER",
    "SignatureFormatError",
    "SignatureMismatchError",
    "SignatureTimestampError",
    "WebhookSignatureError",
    "parse_signature_header",
    "sign",
    "signature_header",
    "verify_signature",
]
