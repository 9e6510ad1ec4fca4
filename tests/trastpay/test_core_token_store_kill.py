"""kill -9 at every step of a token store write: the next reader gets the newest complete token.

A child process saves ``rt_new`` over ``rt_old`` (under the rotation lock, as a rotation does) and
SIGKILLs itself right before its k-th system call of the write (open, fchmod, write, fsync, close,
rename, directory open/fsync/close), or in the middle of the write itself (half the record on
disk). The kill is planted by the child script around ``os``'s functions; no product code carries
a hook. The server issued ``rt_new`` before the write began, so ``rt_old`` is spent: once the
record is completely written, a reader must get ``rt_new`` (see trastpay/token_store.py).
"""

from __future__ import annotations

import json
import signal
import stat
import subprocess
import sys
from pathlib import Path

from trastpay.token_store import TokenStore

_CHILD = r"""
import json, os, signal, sys
from trastpay.token_store import TokenStore

path, kill_at, mid_write = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "mid"
store = TokenStore(path)
trace = []

def planted(name, original):
    def call(*args, **kwargs):
        index = len(trace)
        trace.append(name)
        if index == kill_at:
            if mid_write and name == "write":
                fd, data = args
                original(fd, bytes(data)[: len(data) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
        return original(*args, **kwargs)
    return call

with store.rotation_lock():
    for name in ("open", "fchmod", "write", "fsync", "close", "replace"):
        setattr(os, name, planted(name, getattr(os, name)))
    store.save("rt_new", consumer="singer")
print(json.dumps(trace))
"""


def _run_child(path: Path, kill_at: int, mid: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), str(kill_at), "mid" if mid else "step"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _steps(tmp_path: Path) -> list[str]:
    path = tmp_path / "dry" / "tokens.json"
    TokenStore(path).save("rt_old")
    done = _run_child(path, -1)
    assert done.returncode == 0, done.stderr
    steps: list[str] = json.loads(done.stdout)
    return steps


def _kill_points(tmp_path: Path) -> list[tuple[int, bool, bool]]:
    """(k, mid_write, record_complete_before_the_kill) for every step of the write."""
    steps = _steps(tmp_path)
    assert steps[:3] == ["open", "fchmod", "write"]
    assert "replace" in steps
    last_write = max(i for i, name in enumerate(steps) if name == "write")
    points = [(k, False, k > last_write) for k in range(len(steps))]
    points.append((steps.index("write"), True, False))
    return points


def test_given_a_kill_at_every_step_of_a_write_when_reading_then_newest_complete_token_and_no_pending(
    tmp_path: Path,
) -> None:
    points = _kill_points(tmp_path)
    assert (
        len(points) >= 9
    )  # open, fchmod, write, fsync, close, replace, dir open, dir fsync, dir close + mid
    for k, mid, complete in points:
        path = tmp_path / f"kill-{k}-{'mid' if mid else 'step'}" / "tokens.json"
        TokenStore(path).save("rt_old", consumer="singer")

        done = _run_child(path, k, mid)

        assert done.returncode == -signal.SIGKILL, (k, mid, done.stderr)
        stored = TokenStore(path).load_tokens()
        assert stored is not None, (k, mid)
        assert stored.refresh_token == ("rt_new" if complete else "rt_old"), (k, mid)
        assert stored.consumer == "singer"
        assert not TokenStore(path).pending_path.exists(), (k, mid)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_given_a_kill_after_the_record_was_written_when_two_readers_race_then_both_see_the_new_token(
    tmp_path: Path,
) -> None:
    steps = _steps(tmp_path)
    path = tmp_path / "race" / "tokens.json"
    TokenStore(path).save("rt_old")
    done = _run_child(path, steps.index("replace"))
    assert done.returncode == -signal.SIGKILL
    assert TokenStore(path).pending_path.exists()

    first, second = TokenStore(path), TokenStore(path)

    assert [first.load(), second.load()] == ["rt_new", "rt_new"]
