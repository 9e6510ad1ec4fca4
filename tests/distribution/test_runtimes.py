"""Each runtime installed from the built wheel in a clean venv carries its own stack and nothing else."""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import runtimes

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(900)]


def test_given_a_build_then_wheel_and_sdist_exist_and_the_demo_is_not_shipped(dist: Path) -> None:
    wheel = runtimes.wheel_in(dist)
    assert len(list(dist.glob("trastpay_connectors-*.tar.gz"))) == 1
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {"trastpay", "source_trastpay", "tap_trastpay", "trastpay_sandbox"} <= tops
    assert "trastpay_demo" not in tops
    assert "trastpay/_schemas/cards.json" in names
    assert "trastpay_sandbox/openapi.yaml" in names


@pytest.mark.parametrize("name", list(runtimes.RUNTIMES))
def test_given_a_runtime_venv_when_its_entry_points_are_imported_then_no_other_runtime_is_installed(
    name: str, runtime_python: Callable[[str], Path]
) -> None:
    runtime = runtimes.RUNTIMES[name]
    python = runtime_python(name)

    for module in runtime.entry_modules:
        done = subprocess.run(
            [str(python), "-c", f"import {module}"], cwd=python.parent, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{name}: import {module} failed:\n{done.stderr[-2000:]}"
    present = [module for module in runtime.forbidden if runtimes.importable(python, module)]
    assert present == [], f"{name} runtime carries another runtime's modules: {present}"
    providers = runtimes.providers_of(python.parent.parent, "backoff")
    assert len(providers) <= 1, f"{name}: several distributions write backoff/: {providers}"


@pytest.mark.parametrize(("name", "provider"), [("airbyte", "backoff-"), ("singer", "python_backoff-")])
def test_given_an_sdk_runtime_then_exactly_its_sdk_backoff_is_installed(
    name: str, provider: str, runtime_python: Callable[[str], Path]
) -> None:
    (found,) = runtimes.providers_of(runtime_python(name).parent.parent, "backoff")
    assert found.startswith(provider)


def test_given_the_airbyte_runtime_then_singer_sdk_is_absent_and_vice_versa(
    runtime_python: Callable[[str], Path],
) -> None:
    airbyte, singer = runtime_python("airbyte"), runtime_python("singer")
    assert runtimes.importable(airbyte, "airbyte_cdk")
    assert not runtimes.importable(airbyte, "singer_sdk")
    assert runtimes.importable(singer, "singer_sdk")
    assert not runtimes.importable(singer, "airbyte_cdk")


def test_given_the_cli_runtime_when_help_is_asked_then_every_command_is_listed(
    runtime_python: Callable[[str], Path],
) -> None:
    trastpay = runtime_python("cli").with_name("trastpay")
    done = subprocess.run([str(trastpay), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    for command in ("auth", "statement", "webhooks"):
        assert command in done.stdout


@pytest.mark.parametrize(
    ("runtime", "command", "extra"),
    [
        ("airbyte", ["tap-trastpay", "--about"], "singer"),
        ("singer", ["source-trastpay", "spec"], "airbyte"),
        ("core", ["trastpay-sandbox", "--help"], "sandbox"),
    ],
)
def test_given_a_command_of_another_runtime_when_run_then_it_names_the_extra_to_install(
    runtime: str, command: list[str], extra: str, runtime_python: Callable[[str], Path]
) -> None:
    executable = runtime_python(runtime).with_name(command[0])

    done = subprocess.run([str(executable), *command[1:]], capture_output=True, text=True, timeout=60)

    assert done.returncode != 0
    assert f"pip install 'trastpay-connectors[{extra}]'" in done.stderr
