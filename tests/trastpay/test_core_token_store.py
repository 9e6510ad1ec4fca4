"""Singer token store: atomic 0600 writes that survive a crash, and a cross-process rotation lock."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trastpay.errors import ConfigError, TrastpayError
from trastpay.token_store import TokenStore, default_token_path


def test_given_empty_store_when_loading_then_none(tmp_path: Path) -> None:
    assert TokenStore(tmp_path / "tokens.json").load() is None


def test_given_saved_token_when_loading_then_newest_token_and_owner_only_file(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "nested" / "tokens.json")
    store.save("rt_1")
    store.save("rt_2")
    assert store.load() == "rt_2"
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir() if p.name.endswith(".tmp")] == []


def test_given_rename_fails_after_a_complete_write_when_loading_then_the_newer_token_is_recovered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.save("rt_old")

    def crash(src: str, dst: str) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        store.save("rt_new")
    monkeypatch.undo()
    # rt_old is spent at the server once rt_new was issued: the complete pending record wins.
    assert store.load() == "rt_new"
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == ["tokens.json"]


def test_given_write_fails_midway_when_loading_then_the_old_token_and_no_pending_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    store.save("rt_old")

    def full(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="disk full"):
        store.save("rt_new")
    monkeypatch.undo()
    assert store.load() == "rt_old"
    assert not store.pending_path.exists()


def test_given_corrupt_store_when_loading_then_config_error_names_token_store_path(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError) as caught:
        TokenStore(path).load()
    assert caught.value.field == "token_store_path"


def test_given_empty_token_when_saving_then_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="empty"):
        TokenStore(tmp_path / "t.json").save("")


def test_given_store_when_repr_then_token_never_shown(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "t.json")
    store.save("rt_SECRET_value")
    assert "rt_SECRET_value" not in repr(store)


def test_given_client_and_device_when_default_path_then_user_config_dir_per_login() -> None:
    path = default_token_path("acme/analytics", "dev 01")
    assert path.parent.name == "tokens"
    assert path.name == "acme_analytics-dev_01.json"


def test_given_lock_held_by_another_process_when_rotating_then_waits_and_times_out(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    holder = textwrap.dedent(
        f"""
        import sys
        from trastpay.token_store import TokenStore
        store = TokenStore({str(path)!r})
        with store.rotation_lock():
            store.save("rt_from_other_process")
            print("locked", flush=True)
            sys.stdin.readline()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", holder], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdin is not None
        assert process.stdout.readline().strip() == "locked"
        waiting = TokenStore(path, lock_timeout_s=0.3)
        with pytest.raises(TrastpayError, match="lock"), waiting.rotation_lock():
            pass
        process.stdin.write("release\n")
        process.stdin.flush()
        assert process.wait(timeout=20) == 0
        with TokenStore(path, lock_timeout_s=5).rotation_lock():
            assert waiting.load() == "rt_from_other_process"
    finally:
        if process.poll() is None:
            process.kill()
