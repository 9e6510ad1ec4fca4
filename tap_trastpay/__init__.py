"""Singer tap for Trastpay: the core's streams through singer-sdk (``tap-trastpay``)."""

from __future__ import annotations

from tap_trastpay.tap import TapTrastpay

__all__ = ["TapTrastpay"]
