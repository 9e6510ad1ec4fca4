"""One error tree for the whole core.

Adapters translate these into their SDK's failure types using :attr:`TrastpayError.failure_type`
(``config_error``: the user must change something; ``transient_error``: retrying later may work;
``system_error``: a bug or an unexpected API answer). Messages never carry response bodies, tokens
or card numbers.
"""

from __future__ import annotations

from typing import Literal

FailureType = Literal["config_error", "transient_error", "system_error"]


class TrastpayError(Exception):
    """Base of every error the core raises on purpose."""

    failure_type: FailureType = "system_error"

    def __init__(self, message: str, *, status: int | None = None, problem_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.problem_type = problem_type


class ConfigError(TrastpayError):
    """The connector configuration is invalid; ``field`` names the offending setting."""

    failure_type: FailureType = "config_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"Invalid config field '{field}': {message}")
        self.field = field


class StateError(TrastpayError):
    """A saved state (bookmark) is malformed; the message names the stream and key."""

    failure_type: FailureType = "config_error"


class AuthError(TrastpayError):
    """Credentials were refused (401): bad refresh token, wrong device, unknown client."""

    failure_type: FailureType = "config_error"


class ReauthRequired(AuthError):
    """The refresh-token family is revoked or spent: the user must log in again with an OTP."""


class PermissionDenied(TrastpayError):
    """The token lacks a scope for this resource (403)."""

    failure_type: FailureType = "config_error"


class InvalidRequest(TrastpayError):
    """The API rejected a request as malformed (400/404/422): a bug on our side or bad config."""

    failure_type: FailureType = "system_error"


class RateLimited(TrastpayError):
    """429 after the retry budget was spent."""

    failure_type: FailureType = "transient_error"

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = 429) -> None:
        super().__init__(message, status=status, problem_type="rate-limited")
        self.retry_after = retry_after


class ServerError(TrastpayError):
    """5xx after the retry budget was spent."""

    failure_type: FailureType = "transient_error"


class ConnectionFailed(TrastpayError):
    """The host could not be reached or the connection broke, after retries.

    ``maybe_sent`` is False only when the request provably never reached the server (nothing was
    spent), which is what lets a refresh token be sent again without counting as a resend.
    """

    failure_type: FailureType = "transient_error"

    def __init__(self, message: str, *, maybe_sent: bool = True) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class RedirectRefused(TrastpayError):
    """The API answered a redirect: never followed, so no credential can leave base_url's origin.

    A redirect in front of a bank API is a misconfigured gateway, a proxy or a DNS mistake; the
    refresh token, the access token and the device id must not follow it anywhere.
    """

    failure_type: FailureType = "config_error"


class DeadlineExceeded(TrastpayError):
    """One request took longer than ``request_deadline_seconds`` from connect to its last byte.

    Not retried: a server that trickles its answer would only do it again, and a sync must end.
    """

    failure_type: FailureType = "transient_error"


class ResponseTooLarge(TrastpayError):
    """An answer was larger than ``max_response_mb`` (sent or decompressed); not retried."""

    failure_type: FailureType = "system_error"


class PayloadError(TrastpayError):
    """The API answered 2xx with something that is not the promised JSON (HTML, truncated, wrong shape)."""

    failure_type: FailureType = "transient_error"


class SchemaDriftError(PayloadError):
    """A well-formed answer whose records break the contract (a money field turned float, a missing key).

    Retrying cannot help: the API changed shape, so this is a ``system_error`` that stops the sync
    loudly rather than loading a record that lost its meaning.
    """

    failure_type: FailureType = "system_error"


class PaginationError(SchemaDriftError):
    """Pages that do not move forward (a repeated token, a cursor that does not advance, more
    pages than the answer declared): the stream stops instead of reading the same data forever."""


class RequestFailed(TrastpayError):
    """The HTTP stack refused to send a request (an invalid header value or URL, say).

    The message names the setting or value at fault without quoting it: requests' own messages
    quote the offending header, which can be a token.
    """

    failure_type: FailureType = "system_error"
