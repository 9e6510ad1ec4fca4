"""Singer tap for Trastpay: the core's streams through singer-sdk (``tap-trastpay``)."""

from __future__ import annotations

from trastpay.extras import require_extra

require_extra("singer", "singer_sdk", command="tap-trastpay")

from tap_trastpay.tap import TapTrastpay  # noqa: E402  (after the extra check)

__all__ = ["TapTrastpay"]
