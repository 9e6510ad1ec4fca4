"""Every shell command in the docs runs as typed (README.md, docs/*.md, the sandbox and client READMEs).

Each page's fenced ``bash``/``sh`` blocks run in order as one bash script (``set -euo pipefail``),
like a user's terminal session on that page, in a scratch directory that links the checkout's
files, with a fresh ``HOME`` and a ``PATH`` without ``.venv/bin`` (a new user's shell: ``make
setup`` does not put anything on PATH; the docs say ``.venv/bin/...`` or ``source
.venv/bin/activate``). A sandbox listens for the page on a free port: the only change made to the
text is that port replacing ``8765``. A page that starts ``trastpay-sandbox --port 8765`` itself
gets no sandbox from the test. Every process the page leaves running is killed at the end.

A block whose first line is ``# docs-test: skip (<reason>)`` is not run; the reasons are limited
to :data:`SKIP_REASONS` and every skipped block is listed in the test output. Nothing else may be
skipped: a command that cannot run here must go.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PAGES = sorted(
    [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        ROOT / "trastpay_sandbox" / "README.md",
        *(ROOT / "clients").glob("*/README.md"),
    ]
)
BLOCK = re.compile(r"^```(?:bash|sh)[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
SKIP = re.compile(r"^# docs-test: skip \((?P<reason>[^)]+)\)")
SKIP_REASONS = frozenset(
    {
        "needs Docker",
        "needs Airbyte",
        "needs Node.js and npm packages",
        "needs Meltano and the package registry",
        "runs the whole test suite, which contains this test",
        "runs a test suite that CI runs directly",
        "builds or installs the wheel, which tests/distribution does in clean venvs",
    }
)
DOC_PORT = "8765"
SELF_STARTING = "trastpay-sandbox --port 8765"


@dataclass(frozen=True)
class Block:
    page: Path
    line: int
    text: str

    @property
    def skip_reason(self) -> str | None:
        found = SKIP.match(self.text)
        return found.group("reason") if found else None

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks_of(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [Block(page, text.count("\n", 0, m.start()) + 1, m.group(1)) for m in BLOCK.finditer(text)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _scratch(tmp_path: Path) -> Path:
    """A working directory holding links to everything in the checkout (new files stay here)."""
    work = tmp_path / "work"
    work.mkdir()
    for entry in ROOT.iterdir():
        if entry.name in (".git", "secrets", "warehouse", "output"):
            continue
        (work / entry.name).symlink_to(entry)
    (work / "secrets").mkdir()
    return work


def _user_env(tmp_path: Path) -> dict[str, str]:
    path = [p for p in os.environ.get("PATH", "").split(os.pathsep) if Path(p) != VENV_BIN]
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "TAP_TRASTPAY_"))}
    env.update(
        PATH=os.pathsep.join(path),
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        DO_NOT_TRACK="1",
        AIRBYTE_OFFLINE_MODE="1",
        MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return env


def _start_sandbox(port: int, work: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    ready = work / ".docs-sandbox.json"
    process = subprocess.Popen(
        [str(VENV_BIN / "trastpay-sandbox"), "--port", str(port), "--ready-file", str(ready)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the docs sandbox did not start")
        time.sleep(0.1)
    return process


def _runnable(page: Path) -> list[Block]:
    return [b for b in blocks_of(page) if b.skip_reason is None]


@pytest.mark.parametrize("page", [p for p in PAGES if _runnable(p)], ids=lambda p: str(p.relative_to(ROOT)))
def test_given_a_docs_page_when_its_shell_blocks_run_in_order_then_every_command_succeeds(
    page: Path, tmp_path: Path
) -> None:
    runnable = _runnable(page)
    port = str(_free_port())
    work = _scratch(tmp_path)
    env = _user_env(tmp_path)
    script = "set -euo pipefail\n" + "\n".join(
        f"echo '>>> {block}' >&2\n{block.text.replace(DOC_PORT, port)}" for block in runnable
    )
    sandbox = None
    if not any(SELF_STARTING in block.text for block in runnable):
        sandbox = _start_sandbox(int(port), work, env)
    out_path, err_path = tmp_path / "page.out", tmp_path / "page.err"
    with out_path.open("w") as out_file, err_path.open("w") as err_file:
        # Files, not pipes: a server the page leaves running in the background keeps its copies of
        # the descriptors open, and reading a pipe to its end would wait for that server.
        session = subprocess.Popen(
            ["bash", "-c", script],
            cwd=work,
            env=env,
            stdout=out_file,
            stderr=err_file,
            start_new_session=True,
        )
        try:
            session.wait(timeout=600)
        finally:
            for process in (session, sandbox):
                if process is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
    out, err = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    assert session.returncode == 0, f"{page.name}: {err[-3000:]}\n--- stdout ---\n{out[-1500:]}"


def test_given_the_docs_when_blocks_are_skipped_then_only_for_a_listed_reason() -> None:
    skipped = [(str(b), b.skip_reason) for p in PAGES for b in blocks_of(p) if b.skip_reason is not None]
    print("\nShell blocks not run by the docs test:")
    for where, reason in skipped:
        print(f"  {where}: {reason}")
    assert [(where, r) for where, r in skipped if r not in SKIP_REASONS] == []


def test_given_the_docs_when_searched_then_no_bare_command_assumes_the_venv_is_on_path() -> None:
    """After ``make setup`` nothing is on PATH; a block must activate the venv before bare commands."""
    bare = re.compile(
        r"^(?:\S+ \| )?(trastpay|source-trastpay|tap-trastpay|trastpay-sandbox)\b", re.MULTILINE
    )
    offenders = []
    for page in PAGES:
        activated = False
        for block in blocks_of(page):
            activated = activated or "source .venv/bin/activate" in block.text
            if block.skip_reason is None and not activated and bare.search(block.text):
                offenders.append(str(block))
    assert offenders == []
