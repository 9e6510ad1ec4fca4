"""Airbyte source for Trastpay: a thin adapter over the ``trastpay`` core (see docs/airbyte.md).

:class:`SourceTrastpay` is imported on first use, not with the package: ``source-trastpay spec``,
``check`` and ``discover`` (:mod:`source_trastpay.answers`) and a plain ``read``
(:mod:`source_trastpay.native_read`) are answered without airbyte-cdk, and importing the CDK alone
takes longer than they may (docs/performance.md). :mod:`source_trastpay.console` decides which
path answers; ``TRASTPAY_FAST_PATH=0`` forces the CDK path (docs/airbyte.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trastpay.extras import require_extra

require_extra("airbyte", "airbyte_cdk", command="source-trastpay")

if TYPE_CHECKING:
    from source_trastpay.source import SourceTrastpay

__all__ = ["SourceTrastpay"]


def __getattr__(name: str) -> Any:
    if name == "SourceTrastpay":
        from source_trastpay.source import SourceTrastpay  # lazy on purpose: see the docstring

        return SourceTrastpay
    raise AttributeError(f"module 'source_trastpay' has no attribute {name!r}")
