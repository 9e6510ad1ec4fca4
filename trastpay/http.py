"""The one request path of the core: every call to the Trastpay API goes through :meth:`Requestor.request`.

Pages, POST reads, statement exports, the token refresh and the OTP login all share it, so each
gets the same treatment: the request budget before sending, one audit line per attempt, one
status-to-error mapping (:func:`error_for_status`, with a context: read, refresh or login) and,
where the call is safe to repeat, retries after 429, 5xx, a broken connection or a malformed 2xx
answer, with capped full-jitter exponential backoff that never waits less than ``Retry-After``.

A 401 is not decided here: the requestor asks its :class:`Auth` (the token manager) what to do,
and either resends with the token it answers or lets the typed error it raises through. Messages
carry status, problem slug and path, never a response body, a token or a card number; problem
fields the server chose are cleaned (:func:`~trastpay.masking.clean_server_text`) as they are read.

Every answer is bounded (:mod:`trastpay.transport`): a total deadline per request and a size cap
on the body, sent and decoded; neither is retried. Redirects are never followed, for any call:
a redirect is refused with :class:`~trastpay.errors.RedirectRefused` naming its target, so the
refresh token, the access token and the device id never leave ``base_url``'s origin. Every
exception of the HTTP stack becomes a typed error whose message quotes no header.
"""

from __future__ import annotations

import http.client
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NewConnectionError

from trastpay.audit import audit_call
from trastpay.budget import RequestBudget
from trastpay.errors import (
    ConnectionFailed,
    DeadlineExceeded,
    PayloadError,
    RateLimited,
    RedirectRefused,
    RequestFailed,
    ResponseTooLarge,
    ServerError,
    TrastpayError,
)
from trastpay.masking import clean_server_text, scrub_pans
from trastpay.problems import Context, error_for_status, login_hint, parse_retry_after, read_problem
from trastpay.transport import (
    DEFAULT_DEADLINE_S,
    DEFAULT_MAX_RESPONSE_BYTES,
    BodyTooLarge,
    Deadlines,
    Watch,
    header_problem,
    read_capped,
    read_problem_body,
    redirect_target,
    watch_pools,
)

BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 30.0
MAX_RETRY_AFTER_S = 300.0
_TRANSIENT = (RateLimited, ServerError, ConnectionFailed)


class Answer(NamedTuple):
    """A 2xx answer: its raw bytes, and the JSON object they hold when one was expected."""

    status: int
    content: bytes
    payload: dict[str, Any]
    retries: int = 0
    """Attempts before this one that failed (429, 5xx, broken, malformed); counted in sync_audit."""


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
        deadline_s: float = DEFAULT_DEADLINE_S,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if session is None:
            session = requests.Session()
            # The environment's proxy and CA-bundle settings for this one API, resolved once:
            # requests would otherwise re-read every environment variable and ~/.netrc on each
            # request (a netrc password must not replace the bearer token anyway).
            settings = session.merge_environment_settings(self.base_url, {}, None, None, None)
            session.trust_env = False
            session.proxies.update(settings["proxies"])
            session.verify = settings["verify"]
        self.session = session
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)
        watch_pools(adapter)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        for name, value in (headers or {}).items():
            if header_problem(value):
                raise RequestFailed(
                    f"The {name} header cannot be sent: its value holds line breaks, control or "
                    "non-ASCII characters."
                )
        self.deadlines = Deadlines(deadline_s, clock=clock)
        self.deadline_s = deadline_s
        self.max_response_bytes = max_response_bytes
        self.budget = budget or RequestBudget(None, clock=clock, sleep=sleep)
        self.headers = dict(headers or {})
        self.max_retries = max_retries
        self.consent_id = consent_id
        self.device_id = device_id
        self.sleep = sleep
        self._clock = clock
        self._jitter = jitter
        self._on_response = on_response
        self._timeout = (min(10.0, timeout_s, deadline_s), min(timeout_s, deadline_s))

    def close(self) -> None:
        self.deadlines.close()
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
                return answer if attempt == 1 else answer._replace(retries=attempt - 1)
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
        if token is not None and header_problem(token):
            raise RequestFailed(
                f"{method} {scrub_pans(path)} was not sent: the access token the API issued cannot go "
                "into an HTTP header (it holds line breaks, control or non-ASCII characters)."
            )
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
        watch = self.deadlines.start()
        try:
            try:
                response, content = self._exchange(method, path, params, data, headers, watch)
            except BodyTooLarge as too_large:
                outcome = "too_large"
                raise ResponseTooLarge(
                    f"{method} {scrub_pans(path)} answered more than {self.max_response_bytes // 2**20} MB"
                    f"{' once decompressed' if too_large.decoded else ''}; the answer was not read. "
                    "Raise max_response_mb if the API really sends answers this large."
                ) from None
            status = response.status_code
            raw_request_id = response.headers.get("X-Request-Id")
            request_id = clean_server_text(raw_request_id, 100) if raw_request_id else None
            if self._on_response is not None:
                self._on_response(response)
            if 200 <= status < 300:
                payload = _json_object(content, method, path, status) if expect_json else {}
                return Answer(status, content, payload)
            if 300 <= status < 400:
                outcome = "redirect"
                raise self._redirect_error(method, path, status, context, response.headers.get("Location"))
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
            if status == 429 and (retry_after is None or retry_after <= MAX_RETRY_AFTER_S):
                # a longer Retry-After fails this request (wait_or_raise) and closes nothing for the rest
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
            self.deadlines.stop(watch)
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

    def _exchange(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        data: bytes | None,
        headers: dict[str, str],
        watch: Watch,
    ) -> tuple[requests.Response, bytes]:
        """Send one request and read its body under the deadline; every HTTP-stack failure typed."""
        where = f"{method} {scrub_pans(path)}"
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=dict(params) if params else None,
                data=data,
                headers=headers,
                timeout=self._timeout,
                stream=True,
                allow_redirects=False,
            )
            if 200 <= response.status_code < 300:
                content = read_capped(response, self.max_response_bytes)
            else:
                content = read_problem_body(response)
            return response, content
        except BodyTooLarge:
            raise
        except Exception as exc:
            if watch.expired:
                raise DeadlineExceeded(
                    f"{where} to {self.base_url} did not finish within {self.deadline_s:g} s "
                    "(request_deadline_seconds); it was cut off and is not retried."
                ) from None
            raise _typed_failure(exc, where, self.base_url) from None

    def _redirect_error(
        self, method: str, path: str, status: int, context: Context, location: str | None
    ) -> RedirectRefused:
        target = redirect_target(location)
        if context == "read":
            what = f"{method} {scrub_pans(path)} answered {status} with a redirect to {target}"
        else:
            call = "token refresh" if context == "refresh" else "login"
            what = f"The {call} answered {status} with a redirect to {target}"
        return RedirectRefused(
            f"{what}. Redirects are never followed, so no token or device id leaves {self.base_url}: "
            "set base_url to the API's own address, or check the proxy or DNS in front of it.",
            status=status,
        )


def _typed_failure(exc: BaseException, where: str, base_url: str) -> TrastpayError:
    """The typed error for an exception of the HTTP stack; its text (which may quote a header) is dropped."""
    if isinstance(exc, requests.Timeout):
        return ConnectionFailed(
            f"{where} to {base_url} timed out ({type(exc).__name__}).",
            maybe_sent=not isinstance(exc, requests.ConnectTimeout),
        )
    if isinstance(exc, requests.ConnectionError | requests.exceptions.ChunkedEncodingError):
        # ChunkedEncodingError: the connection broke mid-body (IncompleteRead), which requests
        # does not class as a ConnectionError; it is the same failure and is handled as one.
        return ConnectionFailed(
            f"Could not reach {base_url} ({type(exc).__name__}); check base_url and that the API is up.",
            maybe_sent=not _never_sent(exc),
        )
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return PayloadError(f"{where} answered a body that could not be decompressed.")
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return RequestFailed(f"{where} was not sent: the URL is invalid ({type(exc).__name__}).")
    if isinstance(exc, requests.exceptions.InvalidHeader | ValueError):
        return RequestFailed(
            f"{where} was not sent: a header value holds line breaks, control or non-ASCII characters "
            f"({type(exc).__name__}); check device_id and consent_id."
        )
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return RequestFailed(
            f"{where} was not sent: the URL is invalid ({type(exc).__name__}); check base_url."
        )
    if isinstance(exc, requests.RequestException | http.client.HTTPException | OSError):
        return RequestFailed(f"{where} failed in the HTTP stack ({type(exc).__name__}).")
    raise exc


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
