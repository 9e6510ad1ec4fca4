"""The Trastpay connector core: config, auth, HTTP client, stream definitions, cursors, money, masking.

This package never imports airbyte_cdk or singer_sdk; the adapters in ``source_trastpay`` and
``tap_trastpay`` wrap it.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trastpay-connectors")
    """The installed distribution's version: pyproject.toml's, the one version of every artifact."""
except PackageNotFoundError:  # imported from a checkout that was never installed (no `make setup`)
    __version__ = "0+unknown"
