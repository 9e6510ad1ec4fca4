"""Everything that configures one sandbox run, in one frozen value.

The CLI builds it from flags, :class:`trastpay_sandbox.testing.SandboxServer` from keyword
arguments, and :func:`trastpay_sandbox.app.create_app` reads it; defaults match docs/api.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_ACCESS_TOKEN_TTL_S = 1800
DEFAULT_REFRESH_TOKEN_TTL_S = 30 * 24 * 3600
REFRESH_GRACE_S = 60
OTP_TTL_S = 300
OTP_MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class SandboxOptions:
    """Server-side behaviour switches (the data itself is configured by ``SandboxSettings``).

    ``faults`` is the initial fault configuration (validated by :mod:`trastpay_sandbox.faults`);
    ``rate_limit_per_token`` is a shortcut for the ``per_token_rps`` fault.
    ``refresh_grace``: accept the previous refresh token for :data:`REFRESH_GRACE_S` seconds
    while its successor is unused (the successor pair is answered again).
    """

    access_token_ttl_s: int = DEFAULT_ACCESS_TOKEN_TTL_S
    refresh_token_ttl_s: int = DEFAULT_REFRESH_TOKEN_TTL_S
    refresh_grace: bool = False
    faults: dict[str, Any] = field(default_factory=dict)
    rate_limit_per_token: float | None = None
    fault_seed: int = 42
    otp_ttl_s: int = OTP_TTL_S
    otp_max_attempts: int = OTP_MAX_ATTEMPTS

    def __post_init__(self) -> None:
        if self.access_token_ttl_s <= 0:
            raise ValueError("access_token_ttl_s must be > 0")
        if self.refresh_token_ttl_s <= 0:
            raise ValueError("refresh_token_ttl_s must be > 0")
        if self.rate_limit_per_token is not None and self.rate_limit_per_token <= 0:
            raise ValueError("rate_limit_per_token must be > 0")
        if self.otp_ttl_s <= 0 or self.otp_max_attempts <= 0:
            raise ValueError("otp_ttl_s and otp_max_attempts must be > 0")
