"""What the core may send as an HTTP header value, checked without importing the HTTP stack.

The config refuses a ``device_id`` or ``consent_id`` that could not be sent (CR, LF, controls,
non-ASCII) and the requestor refuses such a token; both use :func:`header_problem`. It lives here,
not in :mod:`trastpay.transport`, so validating a config (``discover``, ``spec``-time checks) does
not import ``requests`` and ``urllib3``.
"""

from __future__ import annotations

import re

_HEADER_VALUE = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*")
"""What the core ever sends in a header: visible ASCII, single inner spaces (``Bearer <token>``)."""


def header_problem(value: str) -> bool:
    """True when ``value`` cannot go into an HTTP header as the core sends it (CR, LF, controls...)."""
    return _HEADER_VALUE.fullmatch(value) is None


__all__ = ["header_problem"]
