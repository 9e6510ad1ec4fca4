"""The OTP login that starts a refresh-token family: ``POST /auth/otp`` then ``POST /auth/login``.

Nothing here needs a connector config: a login is what produces the refresh token a config
holds. The one-time password and the tokens never enter an error message, a log line or a
``repr``; errors carry the API's problem slug and detail only (the sandbox's details, like
"wrong one-time password; 2 attempt(s) left", quote no secret).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import requests

from trastpay.auth import read_problem
from trastpay.errors import (
    AuthError,
    ConnectionFailed,
    InvalidRequest,
    PayloadError,
    RateLimited,
    ServerError,
    TrastpayError,
)
from trastpay.masking import scrub_pans

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
    """Requests OTPs and exchanges them for tokens at one API base URL."""

    def __init__(
        self, base_url: str, *, session: requests.Session | None = None, timeout_s: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._timeout = (min(10.0, timeout_s), timeout_s)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> LoginClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request_otp(self, phone: str) -> int | None:
        """Ask Trastpay to send a one-time password to ``phone``; returns its lifetime in seconds."""
        answer = self._post(OTP_PATH, {"phone": check_phone(phone)}, expected=(200, 202))
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
        answer = self._post(LOGIN_PATH, body, expected=(200,))
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

    def _post(self, path: str, body: Mapping[str, Any], *, expected: tuple[int, ...]) -> dict[str, Any]:
        try:
            response = self._session.post(
                self.base_url + path,
                data=orjson.dumps(body),
                headers={"Content-Type": "application/json", "Accept": "application/json"},
                timeout=self._timeout,
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ConnectionFailed(
                f"Could not reach {self.base_url} ({type(exc).__name__}); "
                "check the base URL and that the API is up."
            ) from None
        if response.status_code in expected:
            try:
                answer = orjson.loads(response.content)
            except orjson.JSONDecodeError:
                answer = None
            if not isinstance(answer, dict):
                raise PayloadError(
                    f"POST {path} answered {response.status_code} with a body that is not JSON."
                )
            return answer
        raise _login_error(path, response)


def _login_error(path: str, response: requests.Response) -> TrastpayError:
    status = response.status_code
    slug, title, detail = read_problem(response)
    reason = scrub_pans(detail or title or "no details")
    label = f"{status} {slug}" if slug else str(status)
    if slug == "invalid-otp":
        return AuthError(f"Login refused: {reason} ({label}).", status=status, problem_type=slug)
    if status in (401, 403):
        return AuthError(f"POST {path} was refused ({label}): {reason}.", status=status, problem_type=slug)
    if status == 429:
        return RateLimited(f"POST {path} was rate limited ({label}); wait and try again.")
    if status >= 500:
        return ServerError(f"POST {path} failed on the server ({label}); try again later.", status=status)
    return InvalidRequest(f"POST {path} was rejected ({label}): {reason}.", status=status, problem_type=slug)


__all__ = ["DEFAULT_CLIENT_ID", "LoginClient", "LoginResult", "check_phone"]
