"""A throwaway PostgreSQL cluster on 127.0.0.1 for the warehouse tests.

``initdb`` refuses to run as root, so under root the cluster belongs to ``nobody`` (``setpriv``
drops the privileges of every server command); otherwise it runs as the current user. The data
directory, the socket and the log live in one temp directory that :meth:`stop` removes. Readiness
is polled with ``pg_isready`` against a deadline, never a fixed sleep.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

USER = "trastpay"
DATABASE = "warehouse"


def postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` (Debian's layout), or
    the directory of ``initdb`` on PATH."""
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresCluster:
    """``initdb`` + ``pg_ctl start`` in a temp dir; user ``trastpay`` (trust auth on 127.0.0.1 only)."""

    def __init__(self, bin_dir: Path, *, startup_timeout: float = 60.0) -> None:
        self.bin_dir = bin_dir
        self.startup_timeout = startup_timeout
        self.root = Path(tempfile.mkdtemp(prefix="trastpay-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.host = "127.0.0.1"
        self._drop = (
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if os.geteuid() == 0 else []
        )

    def _run(self, *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*self._drop, *args], capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{Path(args[0]).name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
            )
        return done

    def start(self) -> PostgresCluster:
        if self._drop:
            os.chmod(self.root, 0o700)
            shutil.chown(self.root, "nobody", "nogroup")
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            f"-c listen_addresses={self.host} -c port={self.port} -c unix_socket_directories={self.root}"
            " -c fsync=off -c timezone=UTC",
            "start",
        )
        deadline = time.monotonic() + self.startup_timeout
        while True:
            ready = subprocess.run(
                [str(self.bin_dir / "pg_isready"), "-h", self.host, "-p", str(self.port), "-U", USER],
                capture_output=True,
                check=False,
            )
            if ready.returncode == 0:
                break
            if time.monotonic() > deadline:
                log = (self.root / "server.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(
                    f"PostgreSQL did not accept connections within {self.startup_timeout} s:\n{log}"
                )
            time.sleep(0.1)
        self._run(str(self.bin_dir / "createdb"), "-h", self.host, "-p", str(self.port), "-U", USER, DATABASE)
        return self

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@{self.host}:{self.port}/{DATABASE}"

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
