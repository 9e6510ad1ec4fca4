"""The config a sync is running with, kept current across token rotations, without airbyte-cdk.

Refresh tokens are single use: every rotation must reach the platform (a CONNECTOR_CONFIG control
message holding the new ``refresh_token``, ``access_token`` and ``token_expiry_date``) before the
new token is used, and every token a process holds is a secret to hide in what it writes. Both
``read`` paths (the CDK adapter, :mod:`source_trastpay.source`, and the direct one,
:mod:`source_trastpay.native_read`) use :class:`LiveConfig`; each passes in how it publishes a
config and how it registers a secret, so the rules live here once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from trastpay.auth import TokenGrant

__all__ = ["LEDGER", "LiveConfig", "RotationLedger"]


class RotationLedger:
    """Spent refresh token -> the grant that replaced it, for this process only (memory, never written).

    A refresh token is single use. When one process runs several commands with the same stored
    config (the standard tests, an embedding application), the later ones must not present the
    token an earlier one already spent: that would revoke the whole login.
    """

    def __init__(self) -> None:
        self._successors: dict[str, TokenGrant] = {}
        self._lock = threading.Lock()

    def record(self, spent: str, successor: TokenGrant) -> None:
        with self._lock:
            self._successors[spent] = successor

    def latest(self, token: str) -> TokenGrant | None:
        """The newest grant descending from ``token``, or None when ``token`` was never spent here."""
        with self._lock:
            seen = {token}
            found: TokenGrant | None = None
            while token in self._successors:
                found = self._successors[token]
                token = found.refresh_token
                if token in seen:
                    break
                seen.add(token)
            return found


LEDGER = RotationLedger()
"""The process's one ledger, shared by every source object and both read paths."""

Publish = Callable[[dict[str, Any]], None]
AddSecret = Callable[[str], None]


class LiveConfig:
    """The config of one sync, with the newest tokens; publishes every change as it happens."""

    def __init__(self, publish: Publish, add_secret: AddSecret, ledger: RotationLedger = LEDGER) -> None:
        self._publish = publish
        self._add_secret = add_secret
        self._ledger = ledger
        self.current: dict[str, Any] = {}

    def with_latest_token(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with the newest successor of its refresh token this process has seen.

        When the token was already rotated here, the updated config is published again so the
        caller's stored copy catches up. The access token (the config's or the successor's) and a
        successor's refresh token become secrets.
        """
        live = dict(config)
        token = live.get("refresh_token")
        if isinstance(token, str):
            latest = self._ledger.latest(token)
            if latest is not None:
                self._add_secret(latest.refresh_token)
                self._add_secret(latest.access_token)
                live.update(latest.config_fields())
                self._publish(live)
        access = live.get("access_token")
        if isinstance(access, str) and access:
            self._add_secret(access)
        return live

    def adopt(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Make ``config`` (brought up to date by :meth:`with_latest_token`) the live one."""
        self.current = self.with_latest_token(config)
        return self.current

    def on_rotate(self, grant: TokenGrant) -> None:
        """Called by the core before the new token is used: publish the updated config first."""
        self._add_secret(grant.refresh_token)
        self._add_secret(grant.access_token)
        previous = self.current.get("refresh_token")
        updated = {**self.current, **grant.config_fields()}
        self._publish(updated)
        self.current = updated
        if isinstance(previous, str):
            self._ledger.record(previous, grant)
