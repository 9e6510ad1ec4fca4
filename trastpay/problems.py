"""The one status mapping of the core: a non-2xx answer (and its RFC 9457 problem) to a typed error.

:func:`error_for_status` is asked by :meth:`trastpay.http.Requestor.request` for every answer that
is not a success, with a context (a data read, the token refresh, the OTP login), so the same
status means the same words everywhere. Problem fields are chosen by the server: :func:`read_problem`
cleans them (:func:`~trastpay.masking.clean_server_text`) before any message can quote them.
"""

from __future__ import annotations

import math
import re
import time
from email.utils import parsedate_to_datetime
from typing import Literal

import orjson

from trastpay.errors import (
    AuthError,
    ConfigError,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
    ReauthRequired,
    ServerError,
    TrastpayError,
)
from trastpay.masking import clean_server_text, scrub_pans

Context = Literal["read", "refresh", "login"]
"""Who is asking: a data read (or export), the token refresh, or the OTP login."""

_SCOPE = re.compile(r"\b[a-z_]+:read\b")
_SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
"""A problem type slug as the API writes them (``refresh-token-reused``); anything else is withheld."""


def read_problem(content: bytes) -> tuple[str | None, str | None, str | None]:
    """``(slug, title, detail)`` of an RFC 9457 problem body, cleaned; ``None``s when it is not one.

    The server chose all three, so they are made safe before any message can quote them: a slug
    that is not a short lower-case word (or holds a card number) is withheld, title and detail
    have card numbers masked, control characters removed and their length capped.
    """
    try:
        problem = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None, None, None
    if not isinstance(problem, dict):
        return None, None, None
    problem_type = problem.get("type")
    slug = problem_type.rstrip("/").rsplit("/", 1)[-1] if isinstance(problem_type, str) else None
    if slug is not None and (_SLUG.fullmatch(slug) is None or scrub_pans(slug) != slug):
        slug = "unrecognised-problem-type"
    title, detail = problem.get("title"), problem.get("detail")
    return (
        slug,
        clean_server_text(title) if isinstance(title, str) else None,
        clean_server_text(detail) if isinstance(detail, str) else None,
    )


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or ``None``."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def login_hint(device_id: str) -> str:
    return (
        "Log in again with an OTP, for this consumer only: `trastpay auth login --for airbyte|singer|cli "
        f"--phone <phone> --device-id {device_id}`, and use the config it writes."
    )


def error_for_status(
    status: int,
    method: str,
    path: str,
    *,
    context: Context = "read",
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    retry_after: float | None = None,
    scope: str | None = None,
    device_id: str = "",
) -> TrastpayError:
    """The typed error for a non-2xx answer: the one status mapping of the core."""
    where = f"{method} {scrub_pans(path)}"
    label = f"{status} {slug}" if slug else str(status)
    if context == "refresh":
        return _refresh_error(status, slug, retry_after, device_id)
    if context == "login":
        return _login_error(status, where, label, slug, scrub_pans(detail or title or "no details"))
    if status == 401:
        if slug == "device-mismatch":
            return AuthError(
                f"{where} was refused: the token belongs to another device than device_id '{device_id}' "
                "(device-mismatch).",
                status=status,
                problem_type=slug,
            )
        return AuthError(
            f"{where} was refused ({label}) even after a token refresh: the login may be revoked.",
            status=status,
            problem_type=slug,
        )
    if status == 403:
        found = _SCOPE.search(detail or "") or _SCOPE.search(title or "")
        missing = found.group(0) if found else scope
        need = f"scope '{missing}'" if missing else "a scope"
        return PermissionDenied(
            f"{where} needs {need} that this login was not granted ({label}); log in again granting it "
            "or deselect the stream.",
            status=status,
            problem_type=slug,
        )
    if status == 429:
        return RateLimited(f"{where} was rate limited ({label}) after all retries.", retry_after=retry_after)
    if status >= 500:
        return ServerError(
            f"{where} failed on the server ({label}) after all retries.", status=status, problem_type=slug
        )
    extra = f": {title}" if title and status in (400, 404, 422) else ""
    return InvalidRequest(
        f"{where} was rejected ({label}){scrub_pans(extra)}.", status=status, problem_type=slug
    )


def _refresh_error(status: int, slug: str | None, retry_after: float | None, device_id: str) -> TrastpayError:
    if status == 429:
        return RateLimited("Token refresh was rate limited (429).", retry_after=retry_after)
    if status >= 500:
        return ServerError(f"Token refresh failed with {status} ({slug or 'server error'}).", status=status)
    if slug == "device-mismatch":
        return AuthError(
            f"The refresh token was issued to another device than device_id '{device_id}' "
            "(device-mismatch): set device_id to the device used at login, or log in again.",
            status=status,
            problem_type=slug,
        )
    if slug == "refresh-token-reused":
        return ReauthRequired(
            "Trastpay revoked this login because a spent refresh token was presented "
            "(refresh-token-reused). " + login_hint(device_id),
            status=status,
            problem_type=slug,
        )
    if status == 401:
        return ReauthRequired(
            f"Trastpay refused the refresh token (401 {slug or 'unauthorized'}). " + login_hint(device_id),
            status=status,
            problem_type=slug,
        )
    if status in (404, 405):
        return ConfigError(
            "base_url",
            f"answered {status} to the token refresh: it is not the Trastpay partner API root "
            "(it must include the API base path, e.g. http://127.0.0.1:8765/api/v1/trastpay)",
        )
    if status in (400, 422):
        return AuthError(
            f"Token refresh was rejected ({status} {slug or 'invalid-request'}): check client_id "
            "and device_id.",
            status=status,
            problem_type=slug,
        )
    return AuthError(
        f"Token refresh failed with status {status} ({slug or 'no problem type'}).", status=status
    )


def _login_error(status: int, where: str, label: str, slug: str | None, reason: str) -> TrastpayError:
    if slug == "invalid-otp":
        return AuthError(f"Login refused: {reason} ({label}).", status=status, problem_type=slug)
    if status in (401, 403):
        return AuthError(f"{where} was refused ({label}): {reason}.", status=status, problem_type=slug)
    if status == 429:
        return RateLimited(f"{where} was rate limited ({label}); wait and try again.")
    if status >= 500:
        return ServerError(f"{where} failed on the server ({label}); try again later.", status=status)
    return InvalidRequest(f"{where} was rejected ({label}): {reason}.", status=status, problem_type=slug)


__all__ = ["Context", "error_for_status", "login_hint", "parse_retry_after", "read_problem"]
