"""The tap's side of rotating refresh tokens: which token to start from and where rotations go.

Trastpay refresh tokens are single use. Singer has no way to hand a new token back to the
orchestrator, so the tap keeps the newest one in the core's :class:`~trastpay.token_store.TokenStore`
(atomic, 0600, file-locked) and the config's ``refresh_token`` is only the seed of a login:

* The store remembers a fingerprint (SHA-256) of the config token its chain started from. While
  the config holds that same token, the stored (newer) token is used. When the config holds a
  different token, the user logged in again and that token is used instead; the store and its
  fingerprint only change once the new token has been accepted (its successor arrives), so a
  mistyped token never destroys a working chain.
* The store also keeps the access token of the newest rotation and its expiry: a run (a fresh
  process, as ``meltano run`` starts one every time) within that token's lifetime spends no
  refresh token at all.
* Every rotation is saved by the core's ``on_rotate`` *before* the new access token is used, under
  the store's cross-process lock, which the token manager also holds around the refresh itself
  (with the store as its ``reload`` source), so concurrent runs never spend the same token.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from trastpay.auth import TokenGrant
from trastpay.config import TrastpayConfig
from trastpay.errors import ConfigError
from trastpay.session import TrastpaySession
from trastpay.token_store import TOKEN_IN_STORE, TokenStore


def fingerprint(refresh_token: str) -> str:
    """A one-way fingerprint of a token: enough to recognise it, useless to replay it."""
    return hashlib.sha256(refresh_token.encode("utf-8")).hexdigest()


class TapTokens:
    """Token store plus the seed fingerprint that tells a fresh login from a stale config."""

    def __init__(self, store: TokenStore) -> None:
        self.store = store
        self.seed_path = Path(str(store.path) + ".seed")
        self._pending_seed: str | None = None

    @classmethod
    def for_config(cls, config: TrastpayConfig) -> TapTokens:
        return cls(TokenStore.for_config(config.client_id, config.device_id, config.token_store_path))

    def _seed(self) -> str | None:
        try:
            return self.seed_path.read_text(encoding="ascii").strip() or None
        except FileNotFoundError:
            return None

    def _write_seed(self, value: str) -> None:
        """Write the fingerprint atomically through a fresh, unpredictable temporary file.

        ``mkstemp`` creates it with ``O_EXCL`` (0600), so a file or symlink planted in the store's
        directory is never written through.
        """
        fd, temp = tempfile.mkstemp(
            prefix=f".{self.seed_path.name}.", suffix=".tmp", dir=self.seed_path.parent
        )
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(value)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.seed_path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def initial_refresh_token(self, config_token: str) -> str:
        """The token to start this run from: the stored newest one, or the config's on a new login.

        A store without a fingerprint was written by another tool (``trastpay auth login``); its
        token wins and the config token is fingerprinted so a later change is recognised.
        """
        config_seed = fingerprint(config_token)
        with self.store.rotation_lock():
            stored = self.store.load()
            seed = self._seed()
            if stored is not None and seed is None and stored != config_token:
                self._write_seed(config_seed)
                seed = config_seed
            if stored is not None and seed == config_seed:
                self._pending_seed = None
                return stored
            if config_token == TOKEN_IN_STORE:
                raise ConfigError(
                    "token_store_path",
                    f"{self.store.path} holds no token, and the config's refresh_token only points to it: "
                    "mount or restore that file (it holds the newest token of the login), or log in again "
                    "with `trastpay auth login --for singer`",
                )
            self._pending_seed = config_seed
            return config_token

    def starting_config(self, config: TrastpayConfig) -> TrastpayConfig:
        """``config`` holding the tokens to start from: the stored chain's, or the config's own login."""
        token = self.initial_refresh_token(config.refresh_token)
        if token == config.refresh_token:
            return config
        stored = self.store.load_tokens()
        if stored is None or stored.refresh_token != token:
            return config.with_refresh_token(token)
        return config.with_tokens(token, stored.access_token, stored.expires_at)

    def on_rotate(self, grant: TokenGrant) -> None:
        """Persist a rotation; called by the core before the new access token is used."""
        if self._pending_seed is not None:
            self._write_seed(self._pending_seed)
            self._pending_seed = None
        self.store.save_grant(grant)

    def reload(self) -> str | None:
        """The stored token, read by the core under the lock right before each refresh.

        While this run is adopting a new login, a stored token of the old chain is ignored; once
        another process has adopted the same login (same fingerprint), its newer token is followed.
        """
        if self._pending_seed is not None:
            if self._seed() != self._pending_seed:
                return None
            self._pending_seed = None
        return self.store.load()

    def open_session(self, config: TrastpayConfig) -> TrastpaySession:
        """A core session whose refreshes are locked against, and reload from, this store."""
        return TrastpaySession(
            config,
            on_rotate=self.on_rotate,
            lock_factory=self.store.rotation_lock,
            reload=self.reload,
        )
