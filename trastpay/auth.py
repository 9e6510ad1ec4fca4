"""The device-bound access token, refreshed ahead of expiry and once on 401, under a lock.

The token manager is the only owner of the 401 decision: the requestor (:mod:`trastpay.http`)
asks :meth:`TokenManager.on_unauthorized` and either resends with the token it answers or
stops with the error it raises.

Refresh tokens are single use and rotate on every refresh. The rules that keep a sync from
locking its user out:

* ``on_rotate(grant)`` runs *before* the new access token is used, with the whole new
  :class:`TokenGrant` (refresh token, access token, wall-clock expiry) so the platform can keep
  the access token too; if it fails the manager stops, because a successor nobody saved would be
  lost with this process.
* An access token handed in with the config (``access_token`` + ``token_expiry_date``, the CDK's
  single-use-refresh-token convention) is used while it is valid: a run within its lifetime
  spends no refresh token at all. It is replaced when it is missing, expiring or refused.
* :meth:`TokenManager.hold_rotation` forbids refreshing (``check`` must never spend the refresh
  token: Airbyte may throw away what a creation-time check publishes); :meth:`introspect` proves
  the refresh token without spending it (``POST /auth/introspect``).
* A spent refresh token is never sent twice. If the answer to a refresh is lost after the request
  may have reached the server, the same token is sent at most once more (a server with a grace
  period answers with the same successor); if that answer is lost too, or the server revoked the
  family, :class:`~trastpay.errors.ReauthRequired` tells the user to log in again with an OTP.
* A failure to connect at all (nothing was sent) spends nothing and may be retried freely.
* One refresh at a time: threads wait on a lock and reuse the result; an optional external lock
  (the Singer token store's file lock) and ``reload`` hook extend that to other processes.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from trastpay.errors import (
    AuthError,
    ConnectionFailed,
    DeadlineExceeded,
    PayloadError,
    RateLimited,
    ReauthRequired,
    ServerError,
    TrastpayError,
)
from trastpay.http import Refusals, Requestor, login_hint

if TYPE_CHECKING:
    from trastpay.config import TrastpayConfig

REFRESH_PATH = "/auth/refresh"
INTROSPECT_PATH = "/auth/introspect"
MAX_TOKENS_PER_REQUEST = 4
"""At most this many distinct access tokens may be refused for one request before it fails."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What one refresh produced; everything a platform must store to continue from it.

    ``expires_at`` is the access token's wall-clock expiry (UTC). The tokens stay out of ``repr``.
    """

    refresh_token: str = field(repr=False)
    access_token: str = field(repr=False)
    expires_at: datetime

    def config_fields(self) -> dict[str, str]:
        """The config keys this grant replaces: ``refresh_token``, ``access_token``, ``token_expiry_date``."""
        return {
            "refresh_token": self.refresh_token,
            "access_token": self.access_token,
            "token_expiry_date": format_expiry(self.expires_at),
        }


def format_expiry(when: datetime) -> str:
    """``token_expiry_date`` as written into a config: RFC 3339 in UTC, whole seconds."""
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class RotationHeld(AuthError):
    """A refresh was needed while rotation is held (``check``): nothing was sent, nothing spent."""


class TokenManager:
    """Hands out a valid access token and owns every 401 decision; see the module docstring."""

    def __init__(
        self,
        config: TrastpayConfig,
        http: Requestor,
        on_rotate: Callable[[TokenGrant], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = _utc_now,
        refresh_margin_s: float = 120.0,
        lock_factory: Callable[[], AbstractContextManager[object]] | None = None,
        reload: Callable[[], str | None] | None = None,
    ) -> None:
        self._config = config
        self._http = http
        self._on_rotate = on_rotate
        self._clock = clock
        self._wall_clock = wall_clock
        self._margin = refresh_margin_s
        self._hold = 0
        self._lock_factory = lock_factory
        self._reload = reload
        self._lock = threading.Lock()
        self._refresh_token = config.refresh_token
        self._access: str | None = None
        self._expires_at = 0.0
        self._sent: set[str] = set()
        self._uncertain: set[str] = set()
        self._broken: TrastpayError | None = None
        self._worked: deque[str] = deque(maxlen=8)  # recent access tokens the API accepted
        self._after_401: str | None = None  # the token the latest refresh after a 401 produced
        self.scopes: tuple[str, ...] = ()
        self.refresh_count = 0
        """How many refreshes succeeded (read by tests and the tap's harness; no decision uses it)."""
        if config.access_token and config.token_expiry_date is not None:
            left = (config.token_expiry_date - wall_clock()).total_seconds()
            if left > self._margin:
                self._access = config.access_token
                self._expires_at = clock() + left - self._margin

    def has_valid_access(self) -> bool:
        """Whether an access token is at hand that is not within the margin of its expiry."""
        with self._lock:
            return self._access is not None and self._clock() < self._expires_at

    @contextmanager
    def hold_rotation(self) -> Iterator[None]:
        """Within this block no refresh is sent: a needed one raises :class:`RotationHeld` instead."""
        with self._lock:
            self._hold += 1
        try:
            yield
        finally:
            with self._lock:
                self._hold -= 1

    def introspect(self) -> dict[str, Any]:
        """Prove the refresh token is live for this client and device without spending it.

        ``POST /auth/introspect`` (RFC 7662 style) answers ``{"active": true, ...}`` or
        ``{"active": false, "reason": ...}``; an inactive token raises :class:`ReauthRequired`
        (or :class:`AuthError` for a device or client mismatch), so a check reports it plainly.
        """
        config = self._config
        with self._lock:
            token = self._refresh_token
        body = {"token": token, "client_id": config.client_id, "device_id": config.device_id}
        try:
            answer = self._http.request("POST", INTROSPECT_PATH, body=body, context="refresh").payload
        except ConnectionFailed as exc:
            raise ConnectionFailed(
                f"Could not connect to {config.base_url} to check the refresh token; "
                "check base_url and the network.",
                maybe_sent=exc.maybe_sent,
            ) from None
        if answer.get("active") is True:
            return answer
        reason = answer.get("reason")
        why = reason if isinstance(reason, str) and reason.isascii() and len(reason) < 40 else "inactive"
        if why == "device-mismatch":
            raise AuthError(
                f"The refresh token was issued to another device than device_id '{config.device_id}' "
                "(device-mismatch): set device_id to the device used at login, or log in again.",
                problem_type=why,
            )
        raise ReauthRequired(
            f"Trastpay refused the refresh token ({why}): it is no longer live for this client and device "
            "(checked without spending it). " + login_hint(config.device_id),
            problem_type=why,
        )

    def access_token(self) -> str:
        """A token valid for at least the refresh margin; refreshes first when needed."""
        with self._lock:
            if self._access is not None and self._clock() < self._expires_at:
                return self._access
            return self._refresh_locked()

    def accepted(self, token: str) -> None:
        """The API accepted ``token``: a later refusal of it means it expired, not that the login is gone."""
        if token not in self._worked:
            self._worked.append(token)

    def on_unauthorized(self, token: str, refusal: TrastpayError, tried: Refusals) -> str:
        """After a 401 with ``token``: the token to resend with, or ``refusal`` raised when it is final.

        One refresh per request: a token refreshed for this request and refused on first use means
        the login is gone. A token that did work (for any thread) and is now refused simply expired
        while this request waited, which concurrent reads meet. A token another thread got by
        refreshing after a 401, refused before it ever worked, means the same: refreshing again
        would only repeat the refusal. An answer that says the token *expired* (not refused) is
        always worth one more refresh: other threads may have used it up before this request's
        success was recorded. The bound on distinct tokens per request rules out a loop. A token
        bound to another device is never cured by a refresh.
        """
        if refusal.problem_type == "device-mismatch":
            raise refusal
        expired = refusal.problem_type == "token-expired"
        unproven = token not in self._worked and not expired
        if (
            token in tried.tokens
            or (tried.refreshed and unproven)
            or (token == self._after_401 and unproven)
            or len(tried.tokens) >= MAX_TOKENS_PER_REQUEST
        ):
            raise refusal
        tried.tokens.add(token)
        before = self.refresh_count
        try:
            return self.handle_unauthorized(token)
        finally:
            tried.refreshed = tried.refreshed or self.refresh_count != before

    def handle_unauthorized(self, token: str) -> str:
        """Replace ``token`` after a 401: refresh once, unless another thread already replaced it."""
        with self._lock:
            if self._access is not None and token != self._access and self._clock() < self._expires_at:
                return self._access
            self._access = None
            fresh = self._refresh_locked()
            self._after_401 = fresh
            return fresh

    def _fail(self, error: TrastpayError) -> TrastpayError:
        self._broken = error
        return error

    def _refresh_locked(self) -> str:
        if self._broken is not None:
            raise self._broken
        if self._hold:
            raise RotationHeld(
                "The access token is missing, expiring or refused, and this command never spends the "
                "refresh token."
            )
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
                    "The refresh token was already spent and is never sent twice. "
                    + login_hint(self._config.device_id)
                )
            )
        resend = token in self._uncertain
        self._uncertain.discard(token)
        self._sent.add(token)
        config = self._config
        body = {"refresh_token": token, "client_id": config.client_id, "device_id": config.device_id}
        started = self._clock()
        wall_started = self._wall_clock()
        try:
            # Never retried here: whether the same token may be sent again is this manager's call.
            answer = self._http.request("POST", REFRESH_PATH, body=body, context="refresh", retry=False)
        except ConnectionFailed as exc:
            # A body cut short means the server answered: the token may be spent.
            if not exc.maybe_sent:
                self._unspend(token, resend)
                raise ConnectionFailed(
                    f"Could not connect to {config.base_url} to refresh the access token; "
                    "check base_url and the network.",
                    maybe_sent=False,
                ) from None
            return self._lost(token, resend, "the connection broke")
        except PayloadError:
            return self._lost(token, resend, "the answer was not the promised token JSON")
        except DeadlineExceeded:
            # The request went out and its answer did not finish in time: the server may have
            # rotated the token, so this is a lost answer (one resend), not a refusal.
            return self._lost(token, resend, "the answer did not finish within request_deadline_seconds")
        except (RateLimited, ServerError):
            self._unspend(token, resend)
            raise
        except TrastpayError as error:
            raise self._fail(error) from None
        payload = answer.payload
        access = payload.get("access_token")
        successor = payload.get("refresh_token")
        expires_in = payload.get("expires_in")
        if not (isinstance(access, str) and isinstance(successor, str) and access and successor) or (
            isinstance(expires_in, bool) or not isinstance(expires_in, int) or expires_in <= 0
        ):
            return self._lost(token, resend, "the answer was not the promised token JSON")
        self._rotate(TokenGrant(successor, access, wall_started + timedelta(seconds=expires_in)))
        self._refresh_token = successor
        self._access = access
        self._expires_at = started + expires_in - min(self._margin, expires_in / 2)
        scopes = payload.get("scopes")
        self.scopes = tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else ()
        self.refresh_count += 1
        return access

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
                    "spent and is not sent a third time. " + login_hint(self._config.device_id)
                )
            )
        self._uncertain.add(token)
        raise ConnectionFailed(
            f"The answer to a token refresh from {self._config.base_url} was lost ({why}); "
            "the same refresh token will be tried once more."
        )

    def _rotate(self, grant: TokenGrant) -> None:
        try:
            self._on_rotate(grant)
        except Exception as exc:
            self._refresh_token = grant.refresh_token
            raise self._fail(
                TrastpayError(
                    f"Saving the rotated refresh token failed ({type(exc).__name__}); stopping before the "
                    "new access token is used so no unsaved token is ever relied on."
                )
            ) from exc


__all__ = [
    "MAX_TOKENS_PER_REQUEST",
    "RotationHeld",
    "TokenGrant",
    "TokenManager",
    "format_expiry",
]
