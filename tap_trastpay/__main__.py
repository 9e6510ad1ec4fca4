"""``python -m tap_trastpay``: the same command as ``tap-trastpay``."""

from __future__ import annotations

from tap_trastpay.tap import TapTrastpay

TapTrastpay.cli()
