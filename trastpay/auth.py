"""The device-bound access token, refreshed ahead of expiry and once on 401, under a lock.

Refresh tokens are single use and rotate on every refresh. The rules that keep a sync from
locking its user out:

* ``on_rotate(new_refresh_token)`` runs *before* the new access token is used; if it fails the
  manager stops, because a successor nobody saved would be lost with this process.
* A spent refresh token is never sent twice. If the answer to a refresh is lost after the request
  may have reached the server, the same token is sent at most once more (a server with a grace
  period answers with the same successor); if that answer is lost too, or the server revoked the
  family, :class:`~trastpay.errors.ReauthRequired` tells the user to log in again with an OTP.
* A failure to connect at all (nothing was sent) spends nothing and may be retried freely.
* One refresh at a time: threads wait on a lock and reuse the result; an optional external lock
  (the Singer token store's file lock) and ``reload`` hook extend that to other processes.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import orjson
import requests
from urllib3.exceptions import NewConnectionError

from trastpay.audit import audit_call
from trastpay.errors import (
    AuthError,
    ConfigError,
    ConnectionFailed,
    RateLimited,
    ReauthRequired,
    ServerError,
    TrastpayError,
)

if TYPE_CHECKING:
    from trastpay.config import TrastpayConfig

REFRESH_PATH = "/auth/refresh"


def read_problem(response: requests.Response) -> tuple[str | None, str | None, str | None]:
    """``(slug, title, detail)`` of an RFC 9457 problem answer; ``None``s when it is not one."""
    try:
        problem = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None, None, None
    if not isinstance(problem, dict):
        return None, None, None
    problem_type = problem.get("type")
    slug = problem_type.rstrip("/").rsplit("/", 1)[-1] if isinstance(problem_type, str) else None
    title = problem.get("title") if isinstance(problem.get("title"), str) else None
    detail = problem.get("detail") if isinstance(problem.get("detail"), str) else None
    return slug, title, detail


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


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request provably never reached the server (so nothing was spent)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ReadTimeout):
        return False
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError)


def login_hint(config: TrastpayConfig) -> str:
    return (
        "Log in again with an OTP: `trastpay auth login --phone <phone> "
        f"--device-id {config.device_id}` and put the new refresh token in the config."
    )


class TokenManager:
    """Hands out a valid access token; see the module docstring for the rotation rules."""

    def __init__(
        self,
        config: TrastpayConfig,
        session: requests.Session,
        on_rotate: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        refresh_margin_s: float = 120.0,
        lock_factory: Callable[[], AbstractContextManager[object]] | None = None,
        reload: Callable[[], str | None] | None = None,
        on_response: Callable[[requests.Response], None] | None = None,
    ) -> None:
        self._config = config
        self._on_response = on_response
        self._session = session
        self._on_rotate = on_rotate
        self._clock = clock
        self._margin = refresh_margin_s
        self._lock_factory = lock_factory
        self._reload = reload
        self._lock = threading.Lock()
        self._refresh_token = config.refresh_token
        self._access: str | None = None
        self._expires_at = 0.0
        self._sent: set[str] = set()
        self._uncertain: set[str] = set()
        self._broken: TrastpayError | None = None
        self.scopes: tuple[str, ...] = ()
        self.refresh_count = 0
        self.after_401_token: str | None = None
        """The access token the latest refresh after a 401 produced (a refusal of it is final)."""

    def access_token(self) -> str:
        """A token valid for at least the refresh margin; refreshes first when needed."""
        with self._lock:
            if self._access is not None and self._clock() < self._expires_at:
                return self._access
            return self._refresh_locked()

    def handle_unauthorized(self, token: str) -> str:
        """After a 401 with ``token``: refresh once, unless another thread already replaced it."""
        with self._lock:
            if self._access is not None and token != self._access and self._clock() < self._expires_at:
                return self._access
            self._access = None
            fresh = self._refresh_locked()
            self.after_401_token = fresh
            return fresh

    def _fail(self, error: TrastpayError) -> TrastpayError:
        self._broken = error
        return error

    def _refresh_locked(self) -> str:
        if self._broken is not None:
            raise self._broken
        outer = self._lock_factory() if self._lock_factory is not None else nullcontext()
        with outer:
            if self._reload is not None:
                stored = self._reload()
                if stored and stored != self._refresh_token and stored not in self._sent:
                    self._refresh_token = stored
            return self._send_refresh(self._refresh_token)

    def _send_refresh(self, token: str) -> str:
        if token in self._sent and token not in self._uncertain:
            raise self._fail(
                ReauthRequired(
                    "The refresh token was already spent and is never sent twice. " + login_hint(self._config)
                )
            )
        resend = token in self._uncertain
        self._uncertain.discard(token)
        self._sent.add(token)
        config = self._config
        body = {"refresh_token": token, "client_id": config.client_id, "device_id": config.device_id}
        started = self._clock()
        try:
            response = self._session.post(
                config.base_url + REFRESH_PATH,
                data=orjson.dumps(body),
                headers={
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                    "X-Device-Id": config.device_id,
                    **({"X-Consent-Id": config.consent_id} if config.consent_id else {}),
                },
                timeout=(min(10.0, config.timeout_seconds), config.timeout_seconds),
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
            # A body cut short (ChunkedEncodingError) means the server answered: the token may be spent.
            self._audit(body, None, started, "connection_error")
            if _never_sent(exc):
                self._unspend(token, resend)
                raise ConnectionFailed(
                    f"Could not connect to {config.base_url} to refresh the access token "
                    f"({type(exc).__name__}); check base_url and the network."
                ) from None
            return self._lost(token, resend, f"the connection broke ({type(exc).__name__})")
        self._audit(body, response.status_code, started, "ok" if response.ok else "error")
        if self._on_response is not None:
            self._on_response(response)
        if response.status_code == 200:
            try:
                answer = orjson.loads(response.content)
                access = answer["access_token"]
                successor = answer["refresh_token"]
                expires_in = answer["expires_in"]
                if not (isinstance(access, str) and isinstance(successor, str) and access and successor):
                    raise TypeError("tokens missing")
                if isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0:
                    raise TypeError("expires_in")
            except (orjson.JSONDecodeError, KeyError, TypeError):
                return self._lost(token, resend, "the answer was not the promised token JSON")
            self._rotate(successor)
            self._refresh_token = successor
            self._access = access
            self._expires_at = started + expires_in - min(self._margin, expires_in / 2)
            scopes = answer.get("scopes")
            self.scopes = tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else ()
            self.refresh_count += 1
            return access
        return self._refused(response, token, resend)

    def _unspend(self, token: str, resend: bool) -> None:
        if resend:
            self._uncertain.add(token)
        else:
            self._sent.discard(token)

    def _lost(self, token: str, resend: bool, why: str) -> str:
        if resend:
            raise self._fail(
                ReauthRequired(
                    f"The answer to a token refresh was lost twice ({why}); the refresh token may be "
                    "spent and is not sent a third time. " + login_hint(self._config)
                )
            )
        self._uncertain.add(token)
        raise ConnectionFailed(
            f"The answer to a token refresh from {self._config.base_url} was lost ({why}); "
            "the same refresh token will be tried once more."
        )

    def _refused(self, response: requests.Response, token: str, resend: bool) -> str:
        status = response.status_code
        slug, _, _ = read_problem(response)
        config = self._config
        if status == 429 or status >= 500:
            self._unspend(token, resend)
            if status == 429:
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                raise RateLimited("Token refresh was rate limited (429).", retry_after=retry_after)
            raise ServerError(
                f"Token refresh failed with {status} ({slug or 'server error'}).", status=status
            )
        if slug == "device-mismatch":
            raise self._fail(
                AuthError(
                    f"The refresh token was issued to another device than device_id '{config.device_id}' "
                    "(device-mismatch): set device_id to the device used at login, or log in again.",
                    status=status,
                    problem_type=slug,
                )
            )
        if slug == "refresh-token-reused":
            raise self._fail(
                ReauthRequired(
                    "Trastpay revoked this login because a spent refresh token was presented "
                    "(refresh-token-reused). " + login_hint(config),
                    status=status,
                    problem_type=slug,
                )
            )
        if status == 401:
            raise self._fail(
                ReauthRequired(
                    f"Trastpay refused the refresh token (401 {slug or 'unauthorized'}). "
                    + login_hint(config),
                    status=status,
                    problem_type=slug,
                )
            )
        if status in (404, 405):
            raise self._fail(
                ConfigError(
                    "base_url",
                    f"answered {status} to the token refresh: it is not the Trastpay partner API root "
                    "(it must include the API base path, e.g. http://127.0.0.1:8765/api/v1/trastpay)",
                )
            )
        if status in (400, 422):
            raise self._fail(
                AuthError(
                    f"Token refresh was rejected ({status} {slug or 'invalid-request'}): check client_id "
                    "and device_id.",
                    status=status,
                    problem_type=slug,
                )
            )
        raise self._fail(
            AuthError(
                f"Token refresh failed with status {status} ({slug or 'no problem type'}).", status=status
            )
        )

    def _rotate(self, successor: str) -> None:
        try:
            self._on_rotate(successor)
        except Exception as exc:
            self._refresh_token = successor
            raise self._fail(
                TrastpayError(
                    f"Saving the rotated refresh token failed ({type(exc).__name__}); stopping before the "
                    "new access token is used so no unsaved token is ever relied on."
                )
            ) from exc

    def _audit(self, body: dict[str, str], status: int | None, started: float, outcome: str) -> None:
        audit_call(
            method="POST",
            path=REFRESH_PATH,
            body=body,
            status=status,
            duration_ms=(self._clock() - started) * 1000.0,
            attempt=1,
            consent_id=self._config.consent_id,
            outcome=outcome,
        )


__all__ = ["TokenManager", "login_hint", "parse_retry_after", "read_problem"]
