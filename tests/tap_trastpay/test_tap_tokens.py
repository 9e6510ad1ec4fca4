"""Which refresh token a run starts from, and when the token store changes (hermetic)."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tap_trastpay.tokens import TapTokens, fingerprint
from trastpay.auth import TokenGrant
from trastpay.config import parse_config
from trastpay.token_store import TokenStore


def _grant(refresh_token: str) -> TokenGrant:
    return TokenGrant(refresh_token, f"at-for-{refresh_token}", datetime.now(UTC) + timedelta(minutes=30))


def _tokens(tmp_path: Path) -> TapTokens:
    return TapTokens(TokenStore(tmp_path / "tokens" / "store.json"))


def test_given_no_store_when_starting_then_the_config_token_is_used_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    tokens = _tokens(tmp_path)
    assert tokens.initial_refresh_token("rt-login-1") == "rt-login-1"
    assert tokens.store.load() is None
    assert tokens.reload() is None


def test_given_a_rotation_when_saved_then_later_runs_start_from_the_successor(tmp_path: Path) -> None:
    first = _tokens(tmp_path)
    first.initial_refresh_token("rt-login-1")
    first.on_rotate(_grant("rt-2"))
    assert stat.S_IMODE(first.store.path.stat().st_mode) == 0o600
    assert first.seed_path.read_text(encoding="ascii") == fingerprint("rt-login-1")
    assert "rt-login-1" not in first.seed_path.read_text(encoding="ascii")
    second = _tokens(tmp_path)
    assert second.initial_refresh_token("rt-login-1") == "rt-2"
    assert second.reload() == "rt-2"


def test_given_a_new_login_in_the_config_when_starting_then_it_replaces_the_chain_once_accepted(
    tmp_path: Path,
) -> None:
    old = _tokens(tmp_path)
    old.initial_refresh_token("rt-login-1")
    old.on_rotate(_grant("rt-2"))
    new = _tokens(tmp_path)
    assert new.initial_refresh_token("rt-login-2") == "rt-login-2"
    assert new.reload() is None, "the old chain must not be swapped back in during adoption"
    assert new.store.load() == "rt-2"
    new.on_rotate(_grant("rt-login-2-next"))
    assert _tokens(tmp_path).initial_refresh_token("rt-login-2") == "rt-login-2-next"


def test_given_a_mistyped_config_token_when_it_is_refused_then_the_stored_chain_survives(
    tmp_path: Path,
) -> None:
    good = _tokens(tmp_path)
    good.initial_refresh_token("rt-login-1")
    good.on_rotate(_grant("rt-2"))
    _tokens(tmp_path).initial_refresh_token("rt-typo")
    assert _tokens(tmp_path).initial_refresh_token("rt-login-1") == "rt-2"


def test_given_a_store_written_by_another_tool_when_starting_then_its_token_wins(tmp_path: Path) -> None:
    tokens = _tokens(tmp_path)
    tokens.store.save("rt-from-cli-login")
    assert tokens.initial_refresh_token("rt-old-config") == "rt-from-cli-login"
    assert _tokens(tmp_path).initial_refresh_token("rt-old-config") == "rt-from-cli-login"
    assert _tokens(tmp_path).initial_refresh_token("rt-newer-config") == "rt-newer-config"


def test_given_two_runs_adopting_the_same_login_when_one_rotated_then_the_other_follows_the_store(
    tmp_path: Path,
) -> None:
    first, second = _tokens(tmp_path), _tokens(tmp_path)
    assert first.initial_refresh_token("rt-login-1") == "rt-login-1"
    assert second.initial_refresh_token("rt-login-1") == "rt-login-1"
    assert second.reload() is None
    first.on_rotate(_grant("rt-2"))
    assert second.reload() == "rt-2"


def test_given_a_symlink_planted_at_the_old_seed_temp_name_when_writing_the_seed_then_it_is_not_followed(
    tmp_path: Path,
) -> None:
    tokens = _tokens(tmp_path)
    tokens.store.path.parent.mkdir(parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    planted = tokens.seed_path.with_name(tokens.seed_path.name + ".tmp")
    planted.symlink_to(victim)
    tokens.initial_refresh_token("rt-login-1")
    tokens.on_rotate(_grant("rt-2"))
    assert victim.read_text(encoding="utf-8") == "precious"
    assert tokens.seed_path.read_text(encoding="ascii") == fingerprint("rt-login-1")
    assert not tokens.seed_path.is_symlink()
    assert stat.S_IMODE(tokens.seed_path.stat().st_mode) == 0o600


def test_given_a_rotation_when_the_next_run_starts_then_it_starts_from_the_stored_access_token(
    tmp_path: Path,
) -> None:
    first = _tokens(tmp_path)
    first.initial_refresh_token("rt-login-1")
    first.on_rotate(_grant("rt-2"))
    config = parse_config(
        {
            "base_url": "http://127.0.0.1:9/api/v1/trastpay",
            "client_id": "c",
            "device_id": "d",
            "refresh_token": "rt-login-1",
            "start_date": "2026-01-01",
        }
    )

    started = _tokens(tmp_path).starting_config(config)

    assert started.refresh_token == "rt-2"
    assert started.access_token == "at-for-rt-2"
    assert started.token_expiry_date is not None
