"""The OTP login that starts a refresh-token family: ``POST /auth/otp`` then ``POST /auth/login``.

Nothing here needs a connector config: a login is what produces the refresh token a config
holds. The one-time password and the tokens never enter an error message, a log line or a
``repr``; errors carry the API's problem slug and detail only (the sandbox's details, like
"wrong one-time password (or it expired...)", quote no secret).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from trastpay.errors import AuthError, PayloadError
from trastpay.http import Requestor

OTP_PATH = "/auth/otp"
LOGIN_PATH = "/auth/login"
DEFAULT_CLIENT_ID = "trastpay-connectors"
PHONE_PATTERN = re.compile(r"^\+998[0-9]{9}$")


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A fresh token pair; the tokens are left out of ``repr``."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    scopes: tuple[str, ...]


def check_phone(phone: str) -> str:
    """``phone`` if it is ``+998`` and nine digits; otherwise a ValueError naming the format."""
    if not PHONE_PATTERN.fullmatch(phone):
        raise ValueError("phone must be +998 followed by 9 digits, e.g. +998901234567")
    return phone


class LoginClient:
    """Requests OTPs and exchanges them for tokens at one API base URL.

    Both calls go through the core's one request path (:mod:`trastpay.http`: audit line, status
    mapping in the ``login`` context) but are never retried: a repeated OTP request texts the user
    again, and a repeated login spends an attempt of the one-time password.
    """

    def __init__(
        self, base_url: str, *, session: requests.Session | None = None, timeout_s: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = Requestor(self.base_url, session=session, timeout_s=timeout_s)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LoginClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request_otp(self, phone: str) -> int | None:
        """Ask Trastpay to send a one-time password to ``phone``; returns its lifetime in seconds."""
        answer = self._post(OTP_PATH, {"phone": check_phone(phone)})
        expires_in = answer.get("expires_in")
        return expires_in if type(expires_in) is int else None

    def login(
        self,
        *,
        phone: str,
        otp: str,
        device_id: str,
        client_id: str = DEFAULT_CLIENT_ID,
        scopes: Sequence[str] | None = None,
    ) -> LoginResult:
        """Exchange the OTP for a device-bound token pair (the start of a new refresh family)."""
        code = otp.strip()
        if not code:
            raise AuthError("The one-time password is empty.")
        body: dict[str, Any] = {
            "phone": check_phone(phone),
            "otp": code,
            "device_id": device_id,
            "client_id": client_id,
        }
        if scopes:
            body["scopes"] = list(scopes)
        answer = self._post(LOGIN_PATH, body)
        access, refresh = answer.get("access_token"), answer.get("refresh_token")
        expires_in = answer.get("expires_in")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            raise PayloadError("POST /auth/login answered without the promised token pair.")
        granted = answer.get("scopes")
        return LoginResult(
            access_token=access,
            refresh_token=refresh,
            expires_in=expires_in if type(expires_in) is int else 0,
            scopes=tuple(s for s in granted if isinstance(s, str)) if isinstance(granted, list) else (),
        )

    def _post(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._http.request("POST", path, body=body, context="login", retry=False).payload


__all__ = ["DEFAULT_CLIENT_ID", "LoginClient", "LoginResult", "check_phone"]
