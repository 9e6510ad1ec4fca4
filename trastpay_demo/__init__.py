"""The main job: sandbox -> connectors -> a local DuckDB warehouse, with a summary and a truth check.

``python -m trastpay_demo`` (``make demo``) runs it; the end-to-end tests drive the same functions.
"""

from __future__ import annotations
