"""Fixtures of the packaging tests: one build per session, one clean venv per runtime, one sandbox.

Everything is installed the way a user installs it: the built wheel with its extra, every
dependency from the package registry pinned by the constraints exported from ``uv.lock``
(scripts/runtimes.py). The venvs live for the session and are shared by every test that needs them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from trastpay_sandbox.testing import SandboxServer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import runtimes  # noqa: E402  (scripts/ is not a package; the tests import it from there)


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``uv build`` (sdist, then the wheel from it) plus the constraints per runtime, once."""
    out = tmp_path_factory.mktemp("dist")
    runtimes.build(out)
    return out


@pytest.fixture(scope="session")
def runtime_python(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The interpreter of a clean venv with one runtime installed from the built wheel (cached)."""
    made: dict[str, Path] = {}

    def python(name: str) -> Path:
        if name not in made:
            venv = tmp_path_factory.mktemp(f"venv-{name}") / "venv"
            made[name] = runtimes.install(runtimes.RUNTIMES[name], dist, venv)
        return made[name]

    return python


@pytest.fixture(scope="session")
def installed_sandbox(runtime_python: Callable[[str], Path]) -> Iterator[SandboxServer]:
    """The sandbox run by the ``[sandbox]`` runtime's interpreter, not the checkout's.

    PYTHONSAFEPATH keeps ``python -m`` from putting the working directory (the checkout) first on
    ``sys.path``, so the installed ``trastpay_sandbox`` is the one that runs.
    """
    python = runtime_python("sandbox")
    with SandboxServer(
        customers=1, history_days=45, seed=11, python=str(python), env={"PYTHONSAFEPATH": "1"}
    ) as server:
        yield server
