"""``python -m tap_trastpay``: the same command as ``tap-trastpay`` (:func:`tap_trastpay.console.main`)."""

from __future__ import annotations

from tap_trastpay.console import main

main()
