"""Core errors become Airbyte traced exceptions with the right failure type and a safe message."""

from __future__ import annotations

import pytest
from airbyte_cdk.models import FailureType  # type: ignore[attr-defined]

from source_trastpay.errors import airbyte_failure_type, to_traced_exception, user_message
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
    StateError,
    TrastpayError,
)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ConfigError("start_date", "is in the future"), FailureType.config_error),
        (StateError("State of stream 'transfers': 'cursor' is not a timestamp"), FailureType.config_error),
        (AuthError("device-mismatch", status=401), FailureType.config_error),
        (ReauthRequired("revoked", status=401), FailureType.config_error),
        (PermissionDenied("missing scope", status=403), FailureType.config_error),
        (RateLimited("429 after retries", retry_after=3.0), FailureType.transient_error),
        (ServerError("503 after retries", status=503), FailureType.transient_error),
        (ConnectionFailed("could not connect"), FailureType.transient_error),
        (PayloadError("not JSON"), FailureType.transient_error),
        (InvalidRequest("400 invalid-request", status=400), FailureType.system_error),
        (TrastpayError("unexpected"), FailureType.system_error),
    ],
)
def test_given_core_error_when_mapped_then_failure_type_matches_core_classification(
    error: TrastpayError, expected: FailureType
) -> None:
    traced = to_traced_exception(error, stream="transfers")

    assert airbyte_failure_type(error) == expected
    assert traced.failure_type == expected
    assert traced.message is not None
    assert error.message in traced.message


def test_given_stream_name_when_mapped_then_trace_names_the_stream() -> None:
    traced = to_traced_exception(ServerError("503", status=503), stream="card_transactions")

    trace = traced.as_airbyte_message().trace
    assert trace is not None
    assert trace.error is not None
    assert trace.error.stream_descriptor is not None
    assert trace.error.stream_descriptor.name == "card_transactions"
    assert trace.error.internal_message is not None
    assert "status 503" in trace.error.internal_message


def test_given_reauth_required_when_mapped_then_message_tells_airbyte_user_what_to_do() -> None:
    message = user_message(ReauthRequired("Trastpay revoked this login. Log in again with an OTP."))

    assert message.startswith("Trastpay revoked this login.")
    assert "refresh token" in message
    assert "Airbyte" in message


def test_given_unknown_failure_type_when_mapped_then_treated_as_system_error() -> None:
    error = TrastpayError("odd")
    error.failure_type = "surprise"  # type: ignore[assignment]

    assert airbyte_failure_type(error) == FailureType.system_error


@pytest.mark.parametrize("token", ["type", '"', "TRACE", "error", ":"])
def test_given_a_server_chosen_secret_like_json_syntax_when_writing_the_error_line_then_it_stays_valid_json(
    token: str,
) -> None:
    import orjson
    from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets, update_secrets

    from source_trastpay.run import error_line

    add_to_secrets(token)
    try:
        for error in (InvalidRequest("GET /transfers was rejected (422)."), ConnectionFailed("no route")):
            line = error_line(to_traced_exception(error, stream="transfers"))
            message = orjson.loads(line)
            assert message["type"] == "TRACE"
            assert message["trace"]["error"]["stream_descriptor"] == {"name": "transfers"}
            has_stack = message["trace"]["error"].get("stack_trace") is not None
            assert has_stack is (error.failure_type == "system_error")
    finally:
        update_secrets([])
