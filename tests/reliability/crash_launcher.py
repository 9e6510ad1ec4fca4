"""Run a connector with a SIGKILL planted inside one token rotation (test-only launcher).

``python crash_launcher.py airbyte|singer <connector args>`` runs the real entry point after
wrapping the core's ``TokenManager._rotate`` (the step between the server's answer and the
connector's own persistence hook): at rotation number ``RELIABILITY_CRASH_ROTATION`` of this
process the connector kills itself, ``RELIABILITY_CRASH_POINT`` = ``received`` (the new token is in
memory, not yet persisted) or ``persisted`` (saved, not yet used). No product code carries the hook.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from trastpay.auth import TokenGrant, TokenManager

_ROTATION = int(os.environ.get("RELIABILITY_CRASH_ROTATION", "1"))
_POINT = os.environ.get("RELIABILITY_CRASH_POINT", "received")
_seen = {"rotations": 0}
_original = TokenManager._rotate


def _rotate_then_maybe_die(self: TokenManager, successor: TokenGrant) -> None:
    _seen["rotations"] += 1
    chosen = _seen["rotations"] == _ROTATION
    if chosen and _POINT == "received":
        os.kill(os.getpid(), signal.SIGKILL)
    _original(self, successor)
    if chosen and _POINT == "persisted":
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> Any:
    TokenManager._rotate = _rotate_then_maybe_die  # type: ignore[method-assign,assignment]
    connector, rest = sys.argv[1], sys.argv[2:]
    if connector == "airbyte":
        from source_trastpay.run import run

        sys.argv = ["source-trastpay", *rest]
        return run()
    from tap_trastpay.tap import TapTrastpay

    sys.argv = ["tap-trastpay", *rest]
    return TapTrastpay.cli()


if __name__ == "__main__":
    main()
