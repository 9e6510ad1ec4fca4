"""What every ``trastpay`` command shares: config loading, the token store, atomic files, paging.

Commands that read data use the same JSON config as the connectors (validated by
:func:`trastpay.config.parse_config`) and the core's token store: the newest refresh token lives
there (written by ``trastpay auth login`` and by every rotation), so the store's token is preferred
over the config's, and each rotation is saved before the new access token is used.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from trastpay.config import TrastpayConfig, parse_config
from trastpay.errors import PayloadError, TrastpayError
from trastpay.session import TrastpaySession
from trastpay.streams import StreamDef
from trastpay.token_store import TOKEN_IN_STORE, TokenStore

CONFIG_ENV = "TRASTPAY_CONFIG"


class CliError(TrastpayError):
    """A user-facing failure of a command; printed as one ``error:`` line, exit status 1."""

    failure_type = "config_error"


def default_config_path() -> Path:
    """``$TRASTPAY_CONFIG``, else ``<user config dir>/trastpay/config.json``."""
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env) if from_env else Path(user_config_dir("trastpay")) / "config.json"


def load_config(path: str | os.PathLike[str] | None) -> TrastpayConfig:
    """Read and validate a connector config file; errors name the file or the bad field."""
    config_path = Path(path).expanduser() if path else default_config_path()
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(
            f"config file {config_path} does not exist; pass --config FILE "
            "(the JSON printed by `trastpay auth login`)"
        ) from None
    except OSError as exc:
        raise CliError(f"cannot read config file {config_path} ({exc.strerror})") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"config file {config_path} is not valid JSON (line {exc.lineno})") from None
    if not isinstance(raw, Mapping):
        raise CliError(f"config file {config_path} must hold a JSON object")
    return parse_config(raw)


def open_session(config: TrastpayConfig) -> TrastpaySession:
    """A core session that starts from the newest stored token and saves every rotation."""
    store = TokenStore.for_config(config.client_id, config.device_id, config.token_store_path)
    with store.rotation_lock():
        stored = store.load_tokens()
    if stored is None and config.refresh_token == TOKEN_IN_STORE:
        raise CliError(
            f"the token store {store.path} holds no login; log in with `trastpay auth login --for cli` "
            "(or restore the file)"
        )
    start = config
    if stored is not None and stored.refresh_token != config.refresh_token:
        start = config.with_tokens(stored.refresh_token, stored.access_token, stored.expires_at)
    return TrastpaySession(
        start, on_rotate=store.save_grant, lock_factory=store.rotation_lock, reload=store.load
    )


def write_atomic(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` so a reader sees the old file or the whole new one (mode 0600)."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise CliError(f"output directory {directory} does not exist")
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def list_all(
    session: TrastpaySession, stream: StreamDef, path: str, params: Mapping[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """Every record of a ``list`` endpoint (all pages), cleaned by the core's record processor."""
    processor = session.processor(stream)
    query: dict[str, Any] = {"page_size": session.config.page_size, **(params or {})}
    while True:
        page = session.client.get_page(path, query, scope=stream.scope)
        items = page.payload.get("items")
        if not isinstance(items, list):
            raise PayloadError(f"GET {path}: the answer has no 'items' list.")
        for item in items:
            yield processor.process(item, None, pan_free=page.pan_free)
        next_page = page.payload.get("next_page")
        if next_page is None:
            return
        if not isinstance(next_page, str) or not next_page:
            raise PayloadError(f"GET {path}: 'next_page' is not a page token string.")
        query = {**query, "page_token": next_page}


def render_table(headers: tuple[str, ...], rows: list[tuple[str, ...]], *, right: frozenset[int]) -> str:
    """A plain-text table; columns in ``right`` (amounts, rates) are right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(width) if index in right else cell.ljust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def out(text: str) -> None:
    """A line of command output (stdout: data a user may pipe)."""
    sys.stdout.write(text + "\n")


def note(text: str) -> None:
    """A line for the human (stderr), kept out of piped output."""
    sys.stderr.write(text + "\n")
