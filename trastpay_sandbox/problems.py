"""RFC 9457 problem details: the one error shape every sandbox route answers with.

Handlers raise :class:`Problem`; the app turns it into ``application/problem+json``. The
``field`` extension member names the input that was wrong, so a client (or a test) can tell
which part of its request to fix without parsing the prose.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import orjson
from starlette.responses import Response

PROBLEM_BASE: Final = "https://sandbox.trastpay.uz/problems/"
PROBLEM_CONTENT_TYPE: Final = "application/problem+json"

TITLES: Final[Mapping[str, str]] = {
    "invalid-request": "Invalid request",
    "unauthorized": "Unauthorized",
    "token-expired": "Access token expired",
    "device-mismatch": "Device mismatch",
    "refresh-token-reused": "Refresh token reused; token family revoked",
    "invalid-otp": "Invalid one-time password",
    "insufficient-scope": "Insufficient scope",
    "cross-origin": "Cross-origin request refused",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "rate-limited": "Too many requests",
    "internal": "Internal server error",
    "unavailable": "Service unavailable",
}


class Problem(Exception):
    """An error answer: raise it anywhere in a handler to stop and reply with problem+json."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        if slug not in TITLES:
            raise ValueError(f"unknown problem slug {slug!r}")
        self.status = status
        self.slug = slug
        self.detail = detail
        self.field = field
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        document: dict[str, object] = {
            "type": PROBLEM_BASE + self.slug,
            "title": TITLES[self.slug],
            "status": self.status,
            "detail": self.detail,
        }
        if self.field is not None:
            document["field"] = self.field
        return document

    def response(self) -> Response:
        return Response(
            orjson.dumps(self.body()),
            status_code=self.status,
            media_type=PROBLEM_CONTENT_TYPE,
            headers=self.headers,
        )


def invalid(field: str, detail: str) -> Problem:
    """400 ``invalid-request`` naming ``field``."""
    return Problem(400, "invalid-request", detail, field=field)


def not_found(detail: str, *, field: str | None = None) -> Problem:
    return Problem(404, "not-found", detail, field=field)


def rate_limited(retry_after_s: int, detail: str) -> Problem:
    return Problem(429, "rate-limited", detail, headers={"Retry-After": str(max(1, retry_after_s))})


def server_error(status: int, detail: str) -> Problem:
    """A 5xx problem: ``unavailable`` for 503, ``internal`` for the others."""
    return Problem(status, "unavailable" if status == 503 else "internal", detail)
