"""Singer tap for Trastpay (``tap-trastpay``): the core's streams through singer-sdk, or without it.

Importing the package imports neither singer-sdk nor the tap class: the console entry point
(:mod:`tap_trastpay.console`) runs a plain sync without singer-sdk and imports
:class:`~tap_trastpay.tap.TapTrastpay` only for everything else. ``from tap_trastpay import
TapTrastpay`` still works (it imports the singer-sdk adapter then).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trastpay.extras import require_extra

require_extra("singer", "singer_sdk", command="tap-trastpay")

if TYPE_CHECKING:
    from tap_trastpay.tap import TapTrastpay

__all__ = ["TapTrastpay"]


def __getattr__(name: str) -> Any:
    if name == "TapTrastpay":
        from tap_trastpay.tap import TapTrastpay

        return TapTrastpay
    raise AttributeError(f"module 'tap_trastpay' has no attribute {name!r}")
