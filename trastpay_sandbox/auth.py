"""OTP login and device-bound, rotating bearer tokens, as docs/api.md specifies.

Tokens are random (``secrets.token_urlsafe``) and only their SHA-256 is kept, except that in
grace mode the successor pair of a rotated refresh token is held in memory for
:data:`~trastpay_sandbox.options.REFRESH_GRACE_S` seconds so a client that lost the answer can
get the *same* pair again. Lifetimes run on a monotonic clock that every sandbox clock advance
also ages, so ``POST /_sandbox/clock {"advance": "PT1H"}`` expires a 30-minute access token.

Unknown phones: ``POST /auth/otp`` answers 202 for any well-formed ``+998`` number and creates
no code for an unknown one, so the endpoint does not reveal who is a customer; the login then
fails with ``invalid-otp``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from trastpay_sandbox.options import REFRESH_GRACE_S, SandboxOptions
from trastpay_sandbox.problems import Problem, invalid

SCOPES: frozenset[str] = frozenset(
    {
        "cards:read",
        "statements:read",
        "transfers:read",
        "microloan:read",
        "instalments:read",
        "deposits:read",
        "fx:read",
        "virtual_cards:read",
        "payments:read",
        "cashback:read",
        "events:read",
    }
)
PHONE_PATTERN = re.compile(r"^\+998\d{9}$")
_DEVICE_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AuthClock:
    """Monotonic seconds plus every sandbox clock advance, so tokens age with simulated time."""

    def __init__(self) -> None:
        self._aged_s = 0.0

    def now(self) -> float:
        return time.monotonic() + self._aged_s

    def age(self, seconds: float) -> None:
        if seconds > 0:
            self._aged_s += seconds


@dataclass(slots=True)
class _Otp:
    otp_id: str
    code: str
    expires_at: float
    failures: int = 0
    locked: bool = False


@dataclass(slots=True)
class _Family:
    customer_id: str
    device_id: str
    client_id: str
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass(slots=True)
class _AccessToken:
    family: _Family
    expires_at: float
    pages_served: int = 0


@dataclass(slots=True)
class _RefreshToken:
    family: _Family
    expires_at: float
    spent_at: float | None = None
    successor: str | None = None
    successor_answer: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: resolved from a valid access token whose device matched."""

    customer_id: str
    device_id: str
    client_id: str
    scopes: frozenset[str]
    token_key: str


OTP_REJECTED = (
    "wrong one-time password (or it expired, was never requested, or had too many wrong attempts); "
    "request a new one"
)
"""The one answer to every failed OTP login: it must not tell a customer's phone from another."""


def _otp_rejected() -> Problem:
    return Problem(401, "invalid-otp", OTP_REJECTED, field="otp")


@dataclass(slots=True)
class AuthService:
    """The sandbox's identity provider: OTPs, token issue/rotation/revocation, request authentication."""

    options: SandboxOptions
    find_customer: Callable[[str], str | None]
    clock: AuthClock = field(default_factory=AuthClock)
    _otps: dict[str, _Otp] = field(default_factory=dict)
    _access: dict[str, _AccessToken] = field(default_factory=dict)
    _refresh: dict[str, _RefreshToken] = field(default_factory=dict)
    spent_presented: int = 0
    """Refreshes that presented a spent (or revoked) refresh token: each one is a revoked login."""
    refreshes: int = 0
    """Refreshes that succeeded (rotations)."""
    introspections: int = 0

    # --- OTP -------------------------------------------------------------------------------
    def request_otp(self, phone: str) -> dict[str, Any]:
        check_phone(phone)
        otp_id = "otp_" + secrets.token_hex(8)
        if self.find_customer(phone) is not None:
            code = f"{secrets.randbelow(1_000_000):06d}"
            self._otps[phone] = _Otp(otp_id, code, self.clock.now() + self.options.otp_ttl_s)
        return {"otp_id": otp_id, "expires_in": self.options.otp_ttl_s}

    def pending_otp(self, phone: str) -> dict[str, Any] | None:
        """The live code for ``phone`` (sandbox hook only), or None."""
        otp = self._otps.get(phone)
        if otp is None or otp.locked or otp.expires_at <= self.clock.now():
            return None
        return {
            "phone": phone,
            "otp": otp.code,
            "otp_id": otp.otp_id,
            "expires_in": int(otp.expires_at - self.clock.now()),
        }

    def _consume_otp(self, phone: str, code: str) -> None:
        """Use up the phone's code, or answer the one uniform ``invalid-otp`` problem.

        Every failure (no code pending, which is also what a phone that is not a customer gets;
        wrong, expired or locked code) answers the same text, so a login attempt does not reveal
        whether a phone belongs to a customer. Wrong tries still count towards the lock."""
        otp = self._otps.get(phone)
        if otp is None or otp.locked:
            raise _otp_rejected()
        if otp.expires_at <= self.clock.now():
            del self._otps[phone]
            raise _otp_rejected()
        if not secrets.compare_digest(otp.code, code):
            otp.failures += 1
            if otp.failures >= self.options.otp_max_attempts:
                otp.locked = True
            raise _otp_rejected()
        del self._otps[phone]

    # --- tokens ----------------------------------------------------------------------------
    def login(
        self, phone: str, code: str, device_id: str, client_id: str, scopes: Iterable[str] | None
    ) -> dict[str, Any]:
        check_phone(phone)
        if not re.fullmatch(r"\d{6}", code):
            raise invalid("otp", "'otp' must be 6 digits")
        check_device(device_id, "device_id")
        granted = check_scopes(scopes)
        self._consume_otp(phone, code)
        customer_id = self.find_customer(phone)
        if customer_id is None:  # pragma: no cover - an OTP only exists for a known customer
            raise _otp_rejected()
        family = _Family(customer_id, device_id, client_id, granted)
        return self._issue(family)

    def _issue(self, family: _Family) -> dict[str, Any]:
        now = self.clock.now()
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(48)
        self._access[_digest(access)] = _AccessToken(family, now + self.options.access_token_ttl_s)
        self._refresh[_digest(refresh)] = _RefreshToken(family, now + self.options.refresh_token_ttl_s)
        self._prune(now)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.options.access_token_ttl_s,
            "scopes": list(family.scopes),
        }

    def refresh(
        self, refresh_token: str, client_id: str, device_id: str, header_device_id: str | None = None
    ) -> dict[str, Any]:
        """Rotate ``refresh_token``. The body's ``device_id`` and the ``X-Device-Id`` header (when
        sent) must both be the login's device; a spent token presented from another device is
        treated as stolen and revokes the whole family, like any reuse."""
        key = _digest(refresh_token)
        record = self._refresh.get(key)
        if record is None:
            raise Problem(401, "unauthorized", "unknown refresh token", field="refresh_token")
        family = record.family
        if family.revoked:
            self.spent_presented += 1
            raise Problem(
                401,
                "refresh-token-reused",
                "this token family was revoked after a refresh token was reused; log in again",
                field="refresh_token",
            )
        if client_id != family.client_id:
            raise Problem(401, "unauthorized", "client_id does not match the login", field="client_id")
        if device_id != family.device_id or header_device_id not in (None, family.device_id):
            if record.spent_at is not None:
                family.revoked = True
                record.successor_answer = None
                raise Problem(
                    401,
                    "refresh-token-reused",
                    "a spent refresh token was presented from another device; every token of this "
                    "login is revoked; log in again",
                    field="refresh_token",
                )
            raise Problem(
                401,
                "device-mismatch",
                "device_id is not the device this token was issued to",
                field="device_id",
            )
        now = self.clock.now()
        if record.spent_at is not None:
            successor = self._refresh.get(record.successor or "")
            in_grace = (
                self.options.refresh_grace
                and record.successor_answer is not None
                and successor is not None
                and successor.spent_at is None
                and now - record.spent_at <= REFRESH_GRACE_S
            )
            if in_grace and record.successor_answer is not None:
                return dict(record.successor_answer)
            family.revoked = True
            record.successor_answer = None
            self.spent_presented += 1
            raise Problem(
                401,
                "refresh-token-reused",
                "refresh token was already used; every token of this login is revoked; log in again",
                field="refresh_token",
            )
        if record.expires_at <= now:
            raise Problem(401, "token-expired", "refresh token expired; log in again", field="refresh_token")
        answer = self._issue(family)
        record.spent_at = now
        record.successor = _digest(answer["refresh_token"])
        if self.options.refresh_grace:
            record.successor_answer = dict(answer)
        self.refreshes += 1
        return answer

    def introspect(self, token: str, client_id: str, device_id: str) -> dict[str, Any]:
        """RFC 7662-style check of a refresh token that spends nothing and revokes nothing.

        Only the client and device the token was issued to learn anything: for any other caller,
        like for an unknown token, the answer is ``{"active": false}``, so the endpoint reveals no
        token's state to a stranger. ``reason`` tells the rightful holder why a token is inactive.
        """
        self.introspections += 1
        record = self._refresh.get(_digest(token))
        if record is None or client_id != record.family.client_id:
            return {"active": False, "reason": "unknown"}
        family = record.family
        if device_id != family.device_id:
            return {"active": False, "reason": "device-mismatch"}
        now = self.clock.now()
        if family.revoked:
            return {"active": False, "reason": "revoked"}
        if record.spent_at is not None:
            return {"active": False, "reason": "spent"}
        if record.expires_at <= now:
            return {"active": False, "reason": "expired"}
        return {
            "active": True,
            "token_type": "refresh_token",
            "client_id": family.client_id,
            "device_id": family.device_id,
            "scopes": list(family.scopes),
            "expires_in": int(record.expires_at - now),
        }

    def counters(self) -> dict[str, int]:
        """The token counters the ``/_sandbox/tokens`` hook reports."""
        return {
            "refreshes": self.refreshes,
            "spent_presented": self.spent_presented,
            "introspections": self.introspections,
            "revoked_families": len({id(r.family) for r in self._refresh.values() if r.family.revoked}),
        }

    def authenticate(self, authorization: str | None, device_id: str | None, scope: str) -> Principal:
        """Resolve the caller of a data route or raise the 401/403 problem that applies."""
        if not authorization:
            raise Problem(
                401,
                "unauthorized",
                "missing Authorization: Bearer <access_token>",
                field="Authorization",
                headers={"WWW-Authenticate": "Bearer"},
            )
        kind, _, token = authorization.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise Problem(
                401,
                "unauthorized",
                "Authorization must be 'Bearer <access_token>'",
                field="Authorization",
                headers={"WWW-Authenticate": "Bearer"},
            )
        key = _digest(token.strip())
        record = self._access.get(key)
        if record is None or record.family.revoked:
            raise Problem(
                401,
                "unauthorized",
                "unknown or revoked access token",
                field="Authorization",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        if record.expires_at <= self.clock.now():
            raise Problem(
                401,
                "token-expired",
                "access token expired; refresh it",
                field="Authorization",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        family = record.family
        if device_id != family.device_id:
            raise Problem(
                401,
                "device-mismatch",
                "X-Device-Id is missing or is not the device of this token",
                field="X-Device-Id",
            )
        if scope not in family.scopes:
            raise Problem(
                403,
                "insufficient-scope",
                f"this token lacks the scope '{scope}'",
                field="scope",
                headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{scope}"'},
            )
        return Principal(
            family.customer_id, family.device_id, family.client_id, frozenset(family.scopes), key
        )

    def count_page(self, token_key: str, expire_after: int | None) -> bool:
        """Count a data page served to an access token; expire it once it served ``expire_after`` pages.

        Answers True when this page made the token expire.
        """
        record = self._access.get(token_key)
        if record is None:
            return False
        record.pages_served += 1
        now = self.clock.now()
        if expire_after is not None and record.pages_served >= expire_after and record.expires_at > now:
            record.expires_at = now
            return True
        return False

    def expire_access_tokens(self) -> int:
        now = self.clock.now()
        live = [r for r in self._access.values() if r.expires_at > now]
        for record in live:
            record.expires_at = now
        return len(live)

    def _prune(self, now: float) -> None:
        if len(self._access) + len(self._refresh) < 4096:
            return
        for key in [k for k, r in self._access.items() if r.expires_at <= now]:
            del self._access[key]
        for key in [k for k, r in self._refresh.items() if r.expires_at <= now - REFRESH_GRACE_S]:
            del self._refresh[key]


def check_phone(phone: str) -> None:
    if not PHONE_PATTERN.match(phone):
        raise invalid("phone", "'phone' must be +998 followed by 9 digits, e.g. +998901234567")


def check_device(device_id: str, field_name: str) -> None:
    if not _DEVICE_PATTERN.match(device_id):
        raise invalid(field_name, f"'{field_name}' must be 1-128 visible ASCII characters")


def check_scopes(scopes: Iterable[str] | None) -> tuple[str, ...]:
    if scopes is None:
        return tuple(sorted(SCOPES))
    requested = list(scopes)
    unknown = sorted({s for s in requested if s not in SCOPES})
    if unknown:
        raise invalid("scopes", f"unknown scope(s): {', '.join(unknown)}; known: {', '.join(sorted(SCOPES))}")
    if not requested:
        raise invalid("scopes", "'scopes' must name at least one scope")
    return tuple(sorted(set(requested)))
