"""The one HTTP client of the core: pooled session, auth, typed errors, retries, budget, audit.

Every status becomes a typed error in :func:`error_for_status`, the single mapping both adapters
rely on. Reads are retried only after 429, 5xx, a broken connection or a malformed 2xx answer,
with capped full-jitter exponential backoff that never waits less than ``Retry-After``. A 401
triggers at most one token refresh by that request and a resend (a token that had worked and
expired while the request waited, under concurrent reads, is replaced the same way). Messages
carry status, problem slug and path, never a response body, a token or a card number.
"""

from __future__ import annotations

import random
import re
import time
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, NamedTuple

import orjson
import requests
import urllib3
from requests.adapters import HTTPAdapter

from trastpay.audit import audit_call
from trastpay.auth import TokenManager, parse_retry_after, read_problem
from trastpay.budget import RequestBudget
from trastpay.config import TrastpayConfig
from trastpay.errors import (
    AuthError,
    ConnectionFailed,
    InvalidRequest,
    PayloadError,
    PermissionDenied,
    RateLimited,
    ServerError,
    TrastpayError,
)
from trastpay.masking import might_hold_pan, scrub_pans


class Page(NamedTuple):
    """A parsed 2xx answer; ``pan_free`` means no digit run in the raw body could be a card number."""

    payload: dict[str, Any]
    pan_free: bool


BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
MAX_RETRY_AFTER_S = 300.0
MAX_TOKENS_PER_REQUEST = 4
"""At most this many distinct access tokens may be refused for one request before it fails."""
_SCOPE = re.compile(r"\b[a-z_]+:read\b")


def error_for_status(
    status: int,
    method: str,
    path: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    retry_after: float | None = None,
    scope: str | None = None,
) -> TrastpayError:
    """The typed error for a non-2xx answer: the one status mapping of the core."""
    where = f"{method} {scrub_pans(path)}"
    label = f"{status} {slug}" if slug else str(status)
    if status == 401:
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


class TrastpayClient:
    """Thread-safe JSON client for the Trastpay partner API."""

    def __init__(
        self,
        config: TrastpayConfig,
        *,
        on_rotate: Callable[[str], None],
        session: requests.Session | None = None,
        budget: RequestBudget | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        lock_factory: Callable[[], AbstractContextManager[object]] | None = None,
        reload: Callable[[], str | None] | None = None,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self.session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=config.max_concurrency, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.budget = budget or RequestBudget(config.requests_per_second, clock=clock, sleep=sleep)
        self.tokens = TokenManager(
            config,
            self.session,
            on_rotate,
            clock=clock,
            lock_factory=lock_factory,
            reload=reload,
            on_response=self.observe_server_time,
        )
        self.server_time: datetime | None = None
        self._worked_tokens: deque[str] = deque(maxlen=8)  # recent access tokens the API accepted
        self._last_date_header: str | None = None
        self._timeout = (min(10.0, config.timeout_seconds), config.timeout_seconds)
        base = {"Accept": "application/json", "X-Device-Id": config.device_id}
        if config.consent_id:
            base["X-Consent-Id"] = config.consent_id
        self._base_headers = base

    def get_json(
        self, path: str, params: Mapping[str, Any] | None = None, *, scope: str | None = None
    ) -> dict[str, Any]:
        """GET ``path`` (relative to base_url) and return the JSON object it answers."""
        return self._call("GET", path, params=params, body=None, idempotent=True, scope=scope).payload

    def post_json(
        self, path: str, body: Mapping[str, Any], *, idempotent: bool = True, scope: str | None = None
    ) -> dict[str, Any]:
        """POST a JSON body; retried like a read unless ``idempotent`` is False (``/statement`` is a read)."""
        return self._call("POST", path, params=None, body=body, idempotent=idempotent, scope=scope).payload

    def get_page(
        self, path: str, params: Mapping[str, Any] | None = None, *, scope: str | None = None
    ) -> Page:
        """Like :meth:`get_json`, plus whether the raw answer provably holds no card number."""
        return self._call("GET", path, params=params, body=None, idempotent=True, scope=scope)

    def post_page(self, path: str, body: Mapping[str, Any], *, scope: str | None = None) -> Page:
        """Like :meth:`post_json` for a read, plus whether the raw answer provably holds no card number."""
        return self._call("POST", path, params=None, body=body, idempotent=True, scope=scope)

    def close(self) -> None:
        self.session.close()

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
                self._wait_or_raise(error, attempt, True, None)

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
        """Seconds before retry ``attempt`` (1-based): full jitter, capped, never below Retry-After."""
        ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0 ** (attempt - 1))
        wait = self._jitter() * ceiling
        return wait if retry_after is None else max(wait, float(retry_after))

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        idempotent: bool,
        scope: str | None,
    ) -> Page:
        attempt = 0
        refreshed_here = False
        rejected: set[str] = set()
        while True:
            attempt += 1
            try:
                return self._attempt(method, path, params, body, attempt, scope)
            except _Unauthorized as unauthorized:
                token = unauthorized.token
                # One refresh per request: a token refreshed for this request and refused on first
                # use means the login is gone. A token that did work (for any thread) and is now
                # refused simply expired while this request waited, which concurrent reads meet.
                # A token another thread got by refreshing after a 401, refused before it ever
                # worked, means the same: refreshing again would only repeat the refusal.
                # An answer that says the token *expired* (not refused) is always worth one more
                # refresh: other threads may have used it up before this request's success was
                # recorded. The bound on distinct tokens per request still rules out a loop.
                expired = unauthorized.error.problem_type == "token-expired"
                unproven = token not in self._worked_tokens and not expired
                cured_nothing = token == self.tokens.after_401_token and unproven
                if (
                    token in rejected
                    or (refreshed_here and unproven)
                    or cured_nothing
                    or len(rejected) >= MAX_TOKENS_PER_REQUEST
                ):
                    raise unauthorized.error from None
                rejected.add(token)
                attempt -= 1  # the resend after a refresh is not a retry
                try:
                    before = self.tokens.refresh_count
                    self.tokens.handle_unauthorized(token)
                    refreshed_here = refreshed_here or self.tokens.refresh_count != before
                except (RateLimited, ServerError, ConnectionFailed) as error:
                    attempt += 1
                    self._wait_or_raise(error, attempt, idempotent, None)
            except _Retry as retry:
                self._wait_or_raise(retry.error, attempt, idempotent, retry.retry_after)

    def _wait_or_raise(
        self, error: TrastpayError, attempt: int, idempotent: bool, retry_after: float | None
    ) -> None:
        """Sleep before the next attempt, or raise ``error`` when retrying is not allowed or useful."""
        if retry_after is None and isinstance(error, RateLimited):
            retry_after = error.retry_after
        too_long = retry_after is not None and retry_after > MAX_RETRY_AFTER_S
        if not idempotent or attempt > self.config.max_retries or too_long:
            raise error from None
        self._sleep(self.backoff(attempt, retry_after))

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        attempt: int,
        scope: str | None,
    ) -> Page:
        self.budget.acquire()
        try:
            token = self.tokens.access_token()
        except (RateLimited, ServerError, ConnectionFailed) as error:
            raise _Retry(error, error.retry_after if isinstance(error, RateLimited) else None) from None
        headers = {**self._base_headers, "Authorization": f"Bearer {token}"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = orjson.dumps(body)
        started = self._clock()
        status: int | None = None
        outcome = "ok"
        request_id: str | None = None
        try:
            try:
                response = self.session.request(
                    method,
                    self.config.base_url + path,
                    params=dict(params) if params else None,
                    data=data,
                    headers=headers,
                    timeout=self._timeout,
                    stream=True,
                )
                content = _read_body(response)
            except requests.Timeout as exc:
                outcome = "timeout"
                raise ConnectionFailed(
                    f"{method} {scrub_pans(path)} to {self.config.base_url} timed out ({type(exc).__name__})."
                ) from None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                # ChunkedEncodingError: the connection broke mid-body (IncompleteRead), which requests
                # does not class as a ConnectionError; it is the same failure and is retried as one.
                outcome = "connection_error"
                raise ConnectionFailed(
                    f"Could not reach {self.config.base_url} ({type(exc).__name__}); check base_url and "
                    "that the API is up."
                ) from None
            status = response.status_code
            request_id = response.headers.get("X-Request-Id")
            self.observe_server_time(response)
            payload = self._interpret(response, content, method, path, token, scope)
            if token not in self._worked_tokens:
                self._worked_tokens.append(token)
            return Page(payload, not might_hold_pan(content))
        except (ConnectionFailed, PayloadError) as error:
            if outcome == "ok":
                outcome = type(error).__name__
            raise _Retry(error, None) from None
        except TrastpayError as error:
            outcome = type(error).__name__
            raise
        except _Retry as retry:
            outcome = type(retry.error).__name__
            raise
        except _Unauthorized:
            outcome = "unauthorized"
            raise
        finally:
            audit_call(
                method=method,
                path=path,
                params=params,
                body=body,
                status=status,
                duration_ms=(self._clock() - started) * 1000.0,
                attempt=attempt,
                consent_id=self.config.consent_id,
                outcome=outcome,
                request_id=request_id,
            )

    def _interpret(
        self,
        response: requests.Response,
        content: bytes,
        method: str,
        path: str,
        token: str,
        scope: str | None,
    ) -> dict[str, Any]:
        status = response.status_code
        if 200 <= status < 300:
            try:
                payload = orjson.loads(content)
            except orjson.JSONDecodeError:
                raise PayloadError(
                    f"{method} {scrub_pans(path)} answered {status} with a body that is not valid JSON "
                    "(truncated or not JSON)."
                ) from None
            if not isinstance(payload, dict):
                raise PayloadError(
                    f"{method} {scrub_pans(path)} answered {status} with JSON that is not an object "
                    f"({type(payload).__name__})."
                )
            return payload
        slug, title, detail = read_problem(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error = error_for_status(
            status, method, path, slug=slug, title=title, detail=detail, retry_after=retry_after, scope=scope
        )
        if status == 401:
            if slug == "device-mismatch":
                raise AuthError(
                    f"{method} {scrub_pans(path)} was refused: the token belongs to another device than "
                    f"device_id '{self.config.device_id}' (device-mismatch).",
                    status=status,
                    problem_type=slug,
                )
            raise _Unauthorized(token, error)
        if status == 429:
            self.budget.pause(retry_after if retry_after is not None else BACKOFF_BASE_S)
        if isinstance(error, RateLimited | ServerError):
            raise _Retry(error, retry_after)
        raise error


def _read_body(response: requests.Response) -> bytes:
    """The whole body of a 2xx answer in one read (an error answer is read the usual way).

    ``Response.content`` reads in 10 KB chunks, which costs about 1 ms of CPU per 600 KB page;
    reading the urllib3 response whole does the same in one call. Its failures are raised as the
    requests exceptions ``Response.content`` would raise, so they are handled (and retried) alike;
    a body shorter than its Content-Length is one of them, never a short page.
    """
    if not 200 <= response.status_code < 300:
        return response.content
    try:
        return response.raw.read(decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from None
    except urllib3.exceptions.ProtocolError as exc:  # IncompleteRead, connection reset mid-body
        raise requests.exceptions.ChunkedEncodingError(exc) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise requests.exceptions.ConnectionError(exc) from None
    finally:
        response.close()


class _Unauthorized(Exception):
    """Internal signal: a 401 that may be cured by one token refresh."""

    def __init__(self, token: str, error: TrastpayError) -> None:
        super().__init__("unauthorized")
        self.token = token
        self.error = error


class _Retry(Exception):
    """Internal signal: a failure a read may retry after ``retry_after`` seconds at the earliest."""

    def __init__(self, error: TrastpayError, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
