"""Airbyte source for Trastpay: a thin adapter over the ``trastpay`` core (see docs/airbyte.md)."""

from __future__ import annotations

from trastpay.extras import require_extra

require_extra("airbyte", "airbyte_cdk", command="source-trastpay")

from source_trastpay.source import SourceTrastpay  # noqa: E402  (after the extra check)

__all__ = ["SourceTrastpay"]
