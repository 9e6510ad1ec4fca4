"""The Singer tap's store of the newest refresh token.

Refresh tokens rotate on every refresh and a spent one is refused, so the newest token must
survive any crash: :meth:`TokenStore.save` writes a temp file in the same directory, fsyncs it,
atomically replaces the store and fsyncs the directory, with mode 0600. A crash at any point
leaves either the old or the new token readable, never a torn file. :meth:`rotation_lock` is a
cross-process file lock the token manager holds around each refresh (with :meth:`load` as its
``reload`` hook), so two tap processes never spend the same token. The token is never logged.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
from filelock import FileLock, Timeout
from platformdirs import user_config_dir

from trastpay.errors import ConfigError, TrastpayError

_SAFE = str.maketrans({c: "_" for c in '/\\:*?"<>| '})


def default_token_path(client_id: str, device_id: str) -> Path:
    """``<user config dir>/trastpay/tokens/<client_id>-<device_id>.json``."""
    name = f"{client_id}-{device_id}".translate(_SAFE)
    return Path(user_config_dir("trastpay")) / "tokens" / f"{name}.json"


class TokenStore:
    """Atomic, locked, owner-only file holding one refresh token."""

    def __init__(self, path: str | os.PathLike[str], *, lock_timeout_s: float = 120.0) -> None:
        self.path = Path(path).expanduser()
        self._lock = FileLock(str(self.path) + ".lock", timeout=lock_timeout_s)

    @classmethod
    def for_config(cls, client_id: str, device_id: str, token_store_path: str | None) -> TokenStore:
        return cls(token_store_path or default_token_path(client_id, device_id))

    def load(self) -> str | None:
        """The newest saved refresh token, or ``None`` when nothing was saved yet."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError("token_store_path", f"cannot read the token store ({exc.strerror})") from None
        try:
            data = orjson.loads(raw)
            token = data["refresh_token"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            raise ConfigError(
                "token_store_path", f"{self.path} is not a Trastpay token store; remove it and log in again"
            ) from None
        if not isinstance(token, str) or not token:
            raise ConfigError("token_store_path", f"{self.path} holds no refresh token; log in again")
        return token

    def save(self, refresh_token: str) -> None:
        """Durably replace the stored token (temp file, fsync, rename, fsync dir), mode 0600."""
        if not refresh_token:
            raise ValueError("refusing to save an empty refresh token")
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        payload = orjson.dumps(
            {"refresh_token": refresh_token, "saved_at": datetime.now(UTC).isoformat(timespec="seconds")}
        )
        fd, temp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_name)
            raise
        _fsync_directory(directory)

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
