"""The core's API client: a :class:`~trastpay.http.Requestor` bound to a config and a token manager.

Every call goes through :meth:`Requestor.request` (budget, audit line, retries, the one status
mapping); the token manager answers every 401. This class only adds what a connector session
needs on top: typed helpers for JSON reads and file exports, and the server's clock.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

import requests

from trastpay.auth import TokenGrant, TokenManager
from trastpay.budget import RequestBudget
from trastpay.config import TrastpayConfig
from trastpay.errors import ConnectionFailed, RateLimited, ServerError
from trastpay.http import Requestor
from trastpay.masking import might_hold_pan


class ApiPage(NamedTuple):
    """A parsed 2xx answer; ``pan_free`` means no digit run in the raw body could be a card number;
    ``size`` is the raw body's length in bytes (what the read-ahead budget counts)."""

    payload: dict[str, Any]
    pan_free: bool
    retries: int = 0
    size: int = 0


def requestor_for(
    config: TrastpayConfig,
    *,
    session: requests.Session | None = None,
    budget: RequestBudget | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    jitter: Callable[[], float] = random.random,
    on_response: Callable[[requests.Response], None] | None = None,
) -> Requestor:
    """The requestor a connector config describes: its URL, device and consent headers, limits."""
    headers = {"X-Device-Id": config.device_id}
    if config.consent_id:
        headers["X-Consent-Id"] = config.consent_id
    return Requestor(
        config.base_url,
        headers=headers,
        timeout_s=config.timeout_seconds,
        deadline_s=config.request_deadline_seconds,
        max_response_bytes=config.max_response_mb * 2**20,
        max_retries=config.max_retries,
        pool_size=config.max_concurrency,
        session=session,
        budget=budget or RequestBudget(config.requests_per_second, clock=clock, sleep=sleep),
        consent_id=config.consent_id,
        device_id=config.device_id,
        sleep=sleep,
        clock=clock,
        jitter=jitter,
        on_response=on_response,
    )


class TrastpayClient:
    """Thread-safe JSON client for the Trastpay partner API."""

    def __init__(
        self,
        config: TrastpayConfig,
        *,
        on_rotate: Callable[[TokenGrant], None],
        session: requests.Session | None = None,
        budget: RequestBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        lock_factory: Callable[[], AbstractContextManager[object]] | None = None,
        reload: Callable[[], str | None] | None = None,
    ) -> None:
        self.config = config
        self.http = requestor_for(
            config,
            session=session,
            budget=budget,
            sleep=sleep,
            clock=clock,
            jitter=jitter,
            on_response=self.observe_server_time,
        )
        self.session = self.http.session
        self.budget = self.http.budget
        self.tokens = TokenManager(
            config, self.http, on_rotate, clock=clock, lock_factory=lock_factory, reload=reload
        )
        self.server_time: datetime | None = None
        self._last_date_header: str | None = None

    def get_json(
        self, path: str, params: Mapping[str, Any] | None = None, *, scope: str | None = None
    ) -> dict[str, Any]:
        """GET ``path`` (relative to base_url) and return the JSON object it answers."""
        return self.get_page(path, params, scope=scope).payload

    def post_json(
        self, path: str, body: Mapping[str, Any], *, idempotent: bool = True, scope: str | None = None
    ) -> dict[str, Any]:
        """POST a JSON body; retried like a read unless ``idempotent`` is False (``/statement`` is a read)."""
        answer = self.http.request("POST", path, body=body, auth=self.tokens, retry=idempotent, scope=scope)
        return answer.payload

    def get_page(
        self, path: str, params: Mapping[str, Any] | None = None, *, scope: str | None = None
    ) -> ApiPage:
        """Like :meth:`get_json`, plus whether the raw answer provably holds no card number."""
        answer = self.http.request("GET", path, params=params, auth=self.tokens, scope=scope)
        content = answer.content
        return ApiPage(answer.payload, not might_hold_pan(content), answer.retries, len(content))

    def post_page(self, path: str, body: Mapping[str, Any], *, scope: str | None = None) -> ApiPage:
        """Like :meth:`post_json` for a read, plus whether the raw answer provably holds no card number."""
        answer = self.http.request("POST", path, body=body, auth=self.tokens, scope=scope)
        content = answer.content
        return ApiPage(answer.payload, not might_hold_pan(content), answer.retries, len(content))

    def get_file(
        self, path: str, params: Mapping[str, Any] | None = None, *, scope: str | None = None
    ) -> bytes:
        """GET a file (a statement export) with the same retries, budget, audit and 401 handling."""
        answer = self.http.request(
            "GET", path, params=params, auth=self.tokens, scope=scope, accept="*/*", expect_json=False
        )
        return answer.content

    def close(self) -> None:
        self.http.close()

    def ensure_login(self) -> str:
        """A valid access token, refreshed if needed, with the same bounded retries as a read.

        A refresh whose answer was lost is retried through here too, which is how the one
        permitted resend of the same refresh token happens.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.tokens.access_token()
            except (RateLimited, ServerError, ConnectionFailed) as error:
                self.http.wait_or_raise(error, attempt, True)

    def observe_server_time(self, response: requests.Response) -> None:
        """Remember the latest HTTP ``Date`` the API sent: "now" is never earlier than the server's."""
        header = response.headers.get("Date")
        if not header or header == self._last_date_header:
            return
        self._last_date_header = header
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        if when.tzinfo is not None and (self.server_time is None or when > self.server_time):
            self.server_time = when

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry ``attempt`` (1-based); see :meth:`Requestor.backoff`."""
        return self.http.backoff(attempt, retry_after)


__all__ = ["ApiPage", "TrastpayClient", "requestor_for"]
