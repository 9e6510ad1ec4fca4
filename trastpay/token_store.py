"""The newest refresh token (and its access token) for the Singer tap and the ``trastpay`` CLI.

Refresh tokens rotate on every refresh and a spent one is refused, so the newest token must
survive any crash. The write protocol (:meth:`TokenStore.save`, always under the rotation lock):

1. write the whole record to ``.<name>.pending`` beside the store (created 0600, truncated), fsync;
2. rename it over the store (atomic), fsync the directory.

A kill before step 1 is complete leaves a torn pending file and the old store: the old token is
what the process held, and the torn file is dropped. A kill after step 1 and before the rename
leaves a *complete* pending record holding a token the server already issued, while the store
holds its spent predecessor; :meth:`TokenStore.load` therefore recovers a complete pending record
(it is newer by construction: it is only ever written after the store it replaces) by finishing
the rename, under the lock. So the reader sees the newest durable token, never a torn file and
never a spent one when a newer one was written. tests/trastpay/test_core_token_store_kill.py kills
a writer at every step to prove it.

:meth:`rotation_lock` is a cross-process file lock the token manager holds around each refresh
(with :meth:`load` as its ``reload`` hook), so two processes never spend the same token. The
record also names the ``consumer`` it was logged in for (``singer``, ``cli``), so ``trastpay auth
login`` can refuse to give one consumer's login to another. Tokens are never logged.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson
from filelock import FileLock, Timeout
from platformdirs import user_config_dir

from trastpay.auth import TokenGrant, format_expiry
from trastpay.cursors import parse_instant
from trastpay.errors import ConfigError, TrastpayError

TOKEN_IN_STORE = "<in the token store>"  # noqa: S105 - a placeholder, not a secret
"""The ``refresh_token`` of a config whose login lives in a token store (``trastpay auth login``)."""

_SAFE = str.maketrans({c: "_" for c in '/\\:*?"<>| '})


def default_token_path(client_id: str, device_id: str) -> Path:
    """``<user config dir>/trastpay/tokens/<client_id>-<device_id>.json``."""
    name = f"{client_id}-{device_id}".translate(_SAFE)
    return Path(user_config_dir("trastpay")) / "tokens" / f"{name}.json"


@dataclass(frozen=True, slots=True)
class StoredTokens:
    """What a store holds: the refresh token and, when saved with it, the current access token."""

    refresh_token: str = field(repr=False)
    access_token: str | None = field(default=None, repr=False)
    expires_at: datetime | None = None
    consumer: str | None = None


class TokenStore:
    """Atomic, locked, owner-only file holding one login's newest tokens."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout_s: float = 120.0) -> None:
        self.path = Path(path).expanduser()
        self.pending_path = self.path.with_name(f".{self.path.name}.pending")
        self._lock = FileLock(str(self.path) + ".lock", timeout=lock_timeout_s)

    @classmethod
    def for_config(cls, client_id: str, device_id: str, token_store_path: str | None) -> TokenStore:
        return cls(token_store_path or default_token_path(client_id, device_id))

    def load(self) -> str | None:
        """The newest saved refresh token, or ``None`` when nothing was saved yet."""
        tokens = self.load_tokens()
        return tokens.refresh_token if tokens is not None else None

    def load_tokens(self) -> StoredTokens | None:
        """The newest saved record (a complete pending write is recovered first), or ``None``."""
        if self.pending_path.exists():
            with self.rotation_lock():  # reentrant: the caller may already hold it
                self._recover_pending()
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError("token_store_path", f"cannot read the token store ({exc.strerror})") from None
        tokens = _parse(raw)
        if tokens is None:
            raise ConfigError(
                "token_store_path", f"{self.path} is not a Trastpay token store; remove it and log in again"
            )
        return tokens

    def _recover_pending(self) -> None:
        """Finish a write a crash interrupted after its record was complete; drop a torn one."""
        try:
            raw = self.pending_path.read_bytes()
        except FileNotFoundError:
            return
        if _parse(raw) is None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.pending_path)
            return
        os.replace(self.pending_path, self.path)
        _fsync_directory(self.path.parent)

    def save(
        self,
        refresh_token: str,
        *,
        access_token: str | None = None,
        expires_at: datetime | None = None,
        consumer: str | None = None,
    ) -> None:
        """Durably replace the stored record (see the module docstring), mode 0600.

        ``consumer`` defaults to the one already recorded, so a rotation keeps the login's owner.
        """
        if not refresh_token:
            raise ValueError("refusing to save an empty refresh token")
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if consumer is None:
            with contextlib.suppress(FileNotFoundError, OSError):
                previous = _parse(self.path.read_bytes())
                consumer = previous.consumer if previous is not None else None
        record: dict[str, str] = {"refresh_token": refresh_token}
        if access_token and expires_at is not None:
            record["access_token"] = access_token
            record["token_expiry_date"] = format_expiry(expires_at)
        if consumer:
            record["consumer"] = consumer
        record["saved_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        payload = orjson.dumps(record)
        fd = os.open(self.pending_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        try:
            try:
                os.fchmod(fd, 0o600)
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            # The record is incomplete: it must not be recovered as if it were whole.
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.pending_path)
            raise
        # From here on the pending record is complete: if the rename fails or the process dies,
        # load() finishes it, because the store may now hold a token the server counts as spent.
        os.replace(self.pending_path, self.path)
        _fsync_directory(directory)

    def save_grant(self, grant: TokenGrant) -> None:
        """Save a rotation: the new refresh token with its access token (the core's ``on_rotate``)."""
        self.save(grant.refresh_token, access_token=grant.access_token, expires_at=grant.expires_at)

    @contextlib.contextmanager
    def rotation_lock(self) -> Iterator[None]:
        """Hold the cross-process lock for one refresh-and-save."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            with self._lock:
                yield
        except Timeout:
            raise TrastpayError(
                f"Another process has held the token store lock {self._lock.lock_file} for too long."
            ) from None

    def __repr__(self) -> str:
        return f"TokenStore({str(self.path)!r})"


def _parse(raw: bytes) -> StoredTokens | None:
    """The record in ``raw``, or None when it is not a whole token store record (torn or foreign)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    token = data.get("refresh_token")
    if not isinstance(token, str) or not token:
        return None
    access = data.get("access_token")
    expiry_text = data.get("token_expiry_date")
    expires_at: datetime | None = None
    if isinstance(access, str) and access and isinstance(expiry_text, str):
        try:
            expires_at = parse_instant(expiry_text)
        except ValueError:
            access = None
    else:
        access = None
    consumer = data.get("consumer")
    return StoredTokens(
        token, access if expires_at else None, expires_at, consumer if isinstance(consumer, str) else None
    )


def _fsync_directory(directory: Path) -> None:
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        fd = os.open(directory, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
