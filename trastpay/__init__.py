"""The Trastpay connector core: config, auth, HTTP client, stream definitions, cursors, money, masking.

This package never imports airbyte_cdk or singer_sdk; the adapters in ``source_trastpay`` and
``tap_trastpay`` wrap it.
"""

from __future__ import annotations

__version__ = "0.1.0"
