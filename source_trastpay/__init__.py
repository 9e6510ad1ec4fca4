"""Airbyte source for Trastpay: a thin adapter over the ``trastpay`` core (see docs/airbyte.md)."""

from __future__ import annotations

from source_trastpay.source import SourceTrastpay

__all__ = ["SourceTrastpay"]
