"""Translate the core's error tree into Airbyte's failure types.

The core already classifies every error (``config_error``: the user must change something;
``transient_error``: a later retry may work; ``system_error``: a bug or an unexpected answer) and
keeps its messages free of response bodies, tokens and card numbers. This module only carries that
classification over to :class:`AirbyteTracedException` and adds the Airbyte-specific hint a user
needs to act on it, so every command reports the same words for the same failure.
"""

from __future__ import annotations

from airbyte_cdk.models import FailureType, StreamDescriptor  # type: ignore[attr-defined]  # implicit re-exports
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_trastpay.wording import internal_message as _internal_message
from source_trastpay.wording import user_message
from trastpay.errors import TrastpayError

__all__ = ["airbyte_failure_type", "to_traced_exception", "user_message"]

_FAILURE_TYPES: dict[str, FailureType] = {
    "config_error": FailureType.config_error,
    "transient_error": FailureType.transient_error,
    "system_error": FailureType.system_error,
}


def airbyte_failure_type(error: TrastpayError) -> FailureType:
    """The Airbyte failure type of a core error; an unknown classification counts as a bug."""
    return _FAILURE_TYPES.get(error.failure_type, FailureType.system_error)


def to_traced_exception(error: TrastpayError, *, stream: str | None = None) -> AirbyteTracedException:
    """Wrap a core error for the CDK, naming the stream it happened in when there is one."""
    return AirbyteTracedException(
        internal_message=_internal_message(error),
        message=user_message(error),
        failure_type=airbyte_failure_type(error),
        exception=error,
        stream_descriptor=StreamDescriptor(name=stream) if stream is not None else None,
    )
