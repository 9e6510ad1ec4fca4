"""The Trastpay connector core: config, auth, HTTP client, stream definitions, cursors, money, masking.

This package never imports airbyte_cdk or singer_sdk; the adapters in ``source_trastpay`` and
``tap_trastpay`` wrap it.

``__version__`` is looked up on first use, not on import: reading the installed distribution's
metadata imports ``importlib.metadata`` and scans the environment (~45 ms of CPU in a large
venv), which ``source-trastpay spec`` would otherwise pay before answering (docs/performance.md).
"""

from __future__ import annotations

from functools import cache


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # only when someone asks

    try:
        return version("trastpay-connectors")
    except PackageNotFoundError:  # imported from a checkout that was never installed (no `make setup`)
        return "0+unknown"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return _version()  # the installed distribution's version: pyproject.toml's, the one of every artifact
    raise AttributeError(f"module 'trastpay' has no attribute {name!r}")
