"""The sandbox of the Trastpay partner API; see trastpay_sandbox/README.md."""

from __future__ import annotations

from trastpay.extras import require_extra

require_extra(
    "sandbox", "starlette", "uvicorn", "openpyxl", "fpdf", "isodate", "yaml", command="trastpay-sandbox"
)
