"""The sentence a user reads for a core error, without importing airbyte-cdk.

Shared by the CDK path (:mod:`source_trastpay.errors`) and the direct answers of ``check`` and
``discover`` (:mod:`source_trastpay.answers`), so both say the same words for the same failure.
"""

from __future__ import annotations

from trastpay.errors import ReauthRequired, TrastpayError

__all__ = ["internal_message", "user_message"]

_REAUTH_HINT = (
    " Then paste the new refresh token (and the device id used at that login) into this source's "
    "settings in Airbyte."
)


def user_message(error: TrastpayError) -> str:
    """The sentence shown to the user: the core's safe message, plus what to do in Airbyte."""
    message = error.message.rstrip()
    if isinstance(error, ReauthRequired):
        return message + _REAUTH_HINT
    return message


def internal_message(error: TrastpayError) -> str:
    """The error's class, status and problem type before its message: for the logs, not the user."""
    details = [type(error).__name__]
    if error.status is not None:
        details.append(f"status {error.status}")
    if error.problem_type:
        details.append(f"problem {error.problem_type}")
    return f"{', '.join(details)}: {error.message}"
