"""Run the Node.js client's own test suite (``node --test``) against a live sandbox.

The Node tests need a sandbox URL; this wrapper starts one and passes it as
``TRASTPAY_SANDBOX_URL``. Without ``node`` the test skips locally but fails in CI (``CI`` set),
so a CI image that lost Node cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from trastpay_sandbox.testing import SandboxServer

NODE_CLIENT = Path(__file__).resolve().parents[2] / "clients" / "node"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is not installed but CI is set: the Node client tests must run in CI")
        pytest.skip("node is not installed (set CI to make this a failure)")
    return node


@pytest.fixture(scope="module")
def node() -> str:
    return _node()


@pytest.fixture(scope="module")
def sandbox(node: str) -> Iterator[SandboxServer]:
    with SandboxServer(customers=1) as server:
        yield server


def test_given_a_live_sandbox_when_running_the_node_suite_then_every_node_test_passes(
    node: str, sandbox: SandboxServer
) -> None:
    environment = {**os.environ, "TRASTPAY_SANDBOX_URL": sandbox.base_url}
    result = subprocess.run(
        [node, "--test", "--test-concurrency=1", "--test-reporter=spec"],
        cwd=NODE_CLIENT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"node --test failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    assert "# fail 0" in result.stdout or "ℹ fail 0" in result.stdout, result.stdout
