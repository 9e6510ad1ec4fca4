"""The one request path of the core: every call to the Trastpay API goes through :meth:`Requestor.request`.

Pages, POST reads, statement exports, the token refresh and the OTP login all share it, so each
gets the same treatment: the request budget before sending, one audit line per attempt, one
status-to-error mapping (:func:`error_for_status`, with a context: read, refresh or login) and,
where the call is safe to repeat, retries after 429, 5xx, a broken connection or a malformed 2xx
answer, with capped full-jitter exponential backoff that never waits less than ``Retry-After``.

A 401 is not decided here: the requestor asks its :class:`Auth` (the token manager) what to do,
and either resends with the token it answers or lets the typed error it raises through. Messages
carry status, problem slug and path, never a response body, a token or a card number.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Literal, NamedTuple, Protocol

import orjson
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from trastpay.audit import audit_call
from trastpay.budget import RequestBudget
from trastpay.errors import (
    AuthError,
    ConfigError,
    ConnectionFailed,
    InvalidRequest,
    PayloadError,
    PermissionDenied,
    RateLimited,
    ReauthRequired,
    ServerError,
    TrastpayError,
)
from trastpay.masking import scrub_pans

Context = Literal["read", "refresh", "login"]
"""Who is asking: a data read (or export), the token refresh, or the OTP login."""

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
MAX_RETRY_AFTER_S = 300.0
_SCOPE = re.compile(r"\b[a-z_]+:read\b")
_TRANSIENT = (RateLimited, ServerError, ConnectionFailed)


class Answer(NamedTuple):
    """A 2xx answer: its raw bytes, and the JSON object they hold when one was expected."""

    status: int
    content: bytes
    payload: dict[str, Any]


@dataclass
class Refusals:
    """What one request has met so far: the tokens refused to it, and whether it caused a refresh."""

    tokens: set[str] = field(default_factory=set)
    refreshed: bool = False


class Auth(Protocol):
    """What the requestor needs from a token manager (see :class:`trastpay.auth.TokenManager`)."""

    def access_token(self) -> str: ...

    def accepted(self, token: str) -> None: ...

    def on_unauthorized(self, token: str, refusal: TrastpayError, tried: Refusals) -> str: ...


def read_problem(content: bytes) -> tuple[str | None, str | None, str | None]:
    """``(slug, title, detail)`` of an RFC 9457 problem body; ``None``s when it is not one."""
    try:
        problem = orjson.loads(content)
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


class Requestor:
    """Sends requests to one API base URL over a pooled ``requests`` session; thread-safe."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 30.0,
        max_retries: int = 5,
        pool_size: int = 10,
        session: requests.Session | None = None,
        budget: RequestBudget | None = None,
        consent_id: str | None = None,
        device_id: str = "",
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        on_response: Callable[[requests.Response], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.budget = budget or RequestBudget(None, clock=clock, sleep=sleep)
        self.headers = dict(headers or {})
        self.max_retries = max_retries
        self.consent_id = consent_id
        self.device_id = device_id
        self.sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._on_response = on_response
        self._timeout = (min(10.0, timeout_s), timeout_s)

    def close(self) -> None:
        self.session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        context: Context = "read",
        auth: Auth | None = None,
        retry: bool = True,
        scope: str | None = None,
        accept: str = "application/json",
        expect_json: bool = True,
    ) -> Answer:
        """Send ``method path`` until it succeeds or fails for good; the 2xx answer or a typed error.

        ``retry`` is False for calls that must not be repeated blindly (the login, the refresh,
        a non-idempotent POST). A resend after a 401 that ``auth`` cured is not counted as a retry.
        """
        attempt = 0
        tried = Refusals()
        token: str | None = None
        while True:
            attempt += 1
            try:
                if auth is not None and token is None:
                    token = auth.access_token()
                answer = self._attempt(
                    method, path, params, body, attempt, context, token, scope, accept, expect_json
                )
                if auth is not None and token is not None:
                    auth.accepted(token)
                return answer
            except _Unauthorized as unauthorized:
                assert auth is not None
                assert token is not None
                try:
                    token = auth.on_unauthorized(token, unauthorized.error, tried)
                except _TRANSIENT as error:
                    token = None
                    self.wait_or_raise(error, attempt, retry)
                else:
                    attempt -= 1  # the resend after a refresh is not a retry
            except _TRANSIENT as error:
                token = None
                self.wait_or_raise(error, attempt, retry)
            except PayloadError as error:
                if type(error) is not PayloadError:  # schema drift is final; a malformed body may heal
                    raise
                token = None
                self.wait_or_raise(error, attempt, retry)

    def wait_or_raise(self, error: TrastpayError, attempt: int, retry: bool) -> None:
        """Sleep before the next attempt, or raise ``error`` when retrying is not allowed or useful."""
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        too_long = retry_after is not None and retry_after > MAX_RETRY_AFTER_S
        if not retry or attempt > self.max_retries or too_long:
            raise error from None
        self.sleep(self.backoff(attempt, retry_after))

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before retry ``attempt`` (1-based): full jitter, capped, never below Retry-After."""
        ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2.0 ** (attempt - 1))
        wait = self._jitter() * ceiling
        return wait if retry_after is None else max(wait, float(retry_after))

    def _attempt(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        body: Mapping[str, Any] | None,
        attempt: int,
        context: Context,
        token: str | None,
        scope: str | None,
        accept: str,
        expect_json: bool,
    ) -> Answer:
        self.budget.acquire()
        headers = {**self.headers, "Accept": accept}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
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
                    self.base_url + path,
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
                    f"{method} {scrub_pans(path)} to {self.base_url} timed out ({type(exc).__name__}).",
                    maybe_sent=not isinstance(exc, requests.ConnectTimeout),
                ) from None
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
                # ChunkedEncodingError: the connection broke mid-body (IncompleteRead), which requests
                # does not class as a ConnectionError; it is the same failure and is handled as one.
                outcome = "connection_error"
                raise ConnectionFailed(
                    f"Could not reach {self.base_url} ({type(exc).__name__}); check base_url and "
                    "that the API is up.",
                    maybe_sent=not _never_sent(exc),
                ) from None
            status = response.status_code
            request_id = response.headers.get("X-Request-Id")
            if self._on_response is not None:
                self._on_response(response)
            if 200 <= status < 300:
                payload = _json_object(content, method, path, status) if expect_json else {}
                return Answer(status, content, payload)
            slug, title, detail = read_problem(content)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            error = error_for_status(
                status,
                method,
                path,
                context=context,
                slug=slug,
                title=title,
                detail=detail,
                retry_after=retry_after,
                scope=scope,
                device_id=self.device_id,
            )
            if status == 429:
                self.budget.pause(retry_after if retry_after is not None else BACKOFF_BASE_S)
            if status == 401 and token is not None and slug != "device-mismatch":
                outcome = "unauthorized"
                raise _Unauthorized(error)
            raise error
        except TrastpayError as error:
            if outcome == "ok":
                outcome = type(error).__name__
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
                consent_id=self.consent_id,
                outcome=outcome,
                request_id=request_id,
            )


def _json_object(content: bytes, method: str, path: str, status: int) -> dict[str, Any]:
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


def _never_sent(exc: requests.RequestException) -> bool:
    """True when the request provably never reached the server (so nothing was spent)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ReadTimeout):
        return False
    reason: Any = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    return isinstance(reason, NewConnectionError)


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
    """Internal signal: a 401 the token manager may cure by a refresh."""

    def __init__(self, error: TrastpayError) -> None:
        super().__init__("unauthorized")
        self.error = error


__all__ = [
    "Answer",
    "Auth",
    "Context",
    "Refusals",
    "Requestor",
    "error_for_status",
    "login_hint",
    "parse_retry_after",
    "read_problem",
]
