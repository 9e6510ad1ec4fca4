"""A connector config from a fresh OTP login against a running sandbox.

Tests, the benchmark and the demo all need the same thing: log a customer in on a device of
their own and put the refresh token into a config both connectors accept. This is the one place
that knows which fields that takes, so a new required config field is added here once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trastpay_sandbox.testing import SandboxServer

CLIENT_ID = "trastpay-connectors"


def login_config(
    sandbox: SandboxServer,
    *,
    device_id: str,
    start_date: str,
    phone: str | None = None,
    client_id: str = CLIENT_ID,
    token_store_path: str | Path | None = None,
    scopes: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Log ``phone`` (default: the sandbox's first customer) in on ``device_id``; answer its config.

    The config has the fields every connector needs (``base_url``, ``client_id``, ``device_id``,
    ``refresh_token``, ``start_date``), ``token_store_path`` when given (the Singer tap keeps its
    rotated tokens there) and then ``fields`` as given (``page_size=10``, ``card_tokens=[...]``).
    """
    chosen = phone if phone is not None else str(sandbox.customers()[0]["phone"])
    tokens = sandbox.login(chosen, device_id=device_id, client_id=client_id, scopes=scopes)
    config: dict[str, Any] = {
        "base_url": sandbox.api_url,
        "client_id": client_id,
        "device_id": device_id,
        "refresh_token": str(tokens["refresh_token"]),
        "start_date": start_date,
    }
    if token_store_path is not None:
        config["token_store_path"] = str(token_store_path)
    config.update(fields)
    return config


__all__ = ["CLIENT_ID", "login_config"]
