"""Build the distribution and install each runtime from it, the way a user would.

One distribution (``trastpay-connectors``) carries a minimal core and one extra per runtime
(pyproject.toml, docs/packaging.md). This script is what ``make dist``, ``make sizes``, the
packaging tests and the Dockerfile's inputs rely on:

* ``build``: ``uv build`` (sdist, then the wheel built from that sdist) into ``--out``, plus one
  constraints file per runtime exported from ``uv.lock`` (``uv export --frozen --no-hashes``), so
  an install from the wheel resolves every dependency to the locked version and nothing else;
* ``sizes``: a clean venv per runtime from the built wheel and its constraints, then each one's
  installed size, number of distributions and which distributions install the ``backoff`` package.

Usage: ``python scripts/runtimes.py build --out dist`` then ``python scripts/runtimes.py sizes --dist dist``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "trastpay-connectors"


@dataclass(frozen=True)
class Runtime:
    """One way to install the project: an extra, the command it runs and what it must not carry."""

    name: str
    extras: tuple[str, ...]
    entry_modules: tuple[str, ...]
    forbidden: tuple[str, ...]


_WEB = ("starlette", "uvicorn")
"""The ASGI stack: the sandbox's server and the CLI's webhook receiver (``trastpay webhooks serve``)."""
_EXPORTS = ("openpyxl", "fpdf")
"""The sandbox's export libraries (isodate is not listed: airbyte-cdk needs it too)."""
_WEB_AND_EXPORTS = (*_WEB, *_EXPORTS)
RUNTIMES: dict[str, Runtime] = {
    runtime.name: runtime
    for runtime in (
        Runtime("core", (), ("trastpay.session", "trastpay.token_store"), ("airbyte_cdk", "singer_sdk")),
        Runtime("airbyte", ("airbyte",), ("source_trastpay.run",), ("singer_sdk", *_WEB_AND_EXPORTS)),
        Runtime(
            "singer",
            ("singer",),
            ("tap_trastpay.tap",),
            ("airbyte_cdk", "pandas", "numpy", "grpc", *_WEB_AND_EXPORTS),
        ),
        Runtime(
            "cli",
            ("cli",),
            ("trastpay.cli", "trastpay.webhook_receiver"),
            ("airbyte_cdk", "singer_sdk", *_EXPORTS),
        ),
        Runtime(
            "sandbox",
            ("sandbox",),
            ("trastpay_sandbox.cli", "trastpay_sandbox.app"),
            ("airbyte_cdk", "singer_sdk"),
        ),
    )
}
"""Every runtime a user installs; ``forbidden`` lists top-level modules another runtime's extra brings."""

ALL = Runtime("all extras", ("airbyte", "singer", "cli", "sandbox"), (), ())
"""Every extra at once: what the single distribution used to install everywhere (for comparison)."""


def uv_executable() -> str:
    """The project's bootstrapped uv (``.uv/bin/uv``, see the Makefile), else uv on PATH."""
    local = ROOT / ".uv" / "bin" / "uv"
    if local.exists():
        return str(local)
    found = shutil.which("uv")
    if found is None:
        raise SystemExit("uv not found: run `make setup` first (it bootstraps .uv/bin/uv)")
    return found


def _run(args: list[str], *, cwd: Path = ROOT) -> str:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout


def constraints_name(runtime: Runtime) -> str:
    return f"constraints-{'-'.join(runtime.extras) or 'core'}.txt"


def build(out: Path) -> Path:
    """Build sdist and wheel into ``out`` and export the locked constraints; return the wheel."""
    out.mkdir(parents=True, exist_ok=True)
    uv = uv_executable()
    _run([uv, "build", "--out-dir", str(out)])
    for runtime in (*RUNTIMES.values(), ALL):
        export = [uv, "export", "--frozen", "--no-hashes", "--no-dev", "--no-emit-project"]
        extras = [a for extra in runtime.extras for a in ("--extra", extra)]
        _run([*export, *extras, "--output-file", str(out / constraints_name(runtime))])
    return wheel_in(out)


def wheel_in(dist: Path) -> Path:
    """The one wheel in ``dist`` (a stale second one would make installs ambiguous)."""
    wheels = sorted(dist.glob("trastpay_connectors-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(
            f"expected one trastpay_connectors wheel in {dist}, found {[w.name for w in wheels]}"
        )
    return wheels[0]


def install(runtime: Runtime, dist: Path, venv: Path) -> Path:
    """A clean venv at ``venv`` with the built wheel and the runtime's extras, pinned by the lock."""
    uv = uv_executable()
    _run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)])
    wheel = wheel_in(dist)
    requirement = f"{wheel}[{','.join(runtime.extras)}]" if runtime.extras else str(wheel)
    python = venv / "bin" / "python"
    _run(
        [
            uv,
            "pip",
            "install",
            "--python",
            str(python),
            requirement,
            "--constraint",
            str(dist / constraints_name(runtime)),
        ]
    )
    return python


def site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python3*/site-packages")
    return found


def installed_bytes(venv: Path) -> int:
    """Apparent size of everything installed into the venv's site-packages."""
    return sum(p.stat().st_size for p in site_packages(venv).rglob("*") if p.is_file() and not p.is_symlink())


def distributions(venv: Path) -> list[str]:
    return sorted(p.name.removesuffix(".dist-info") for p in site_packages(venv).glob("*.dist-info"))


def providers_of(venv: Path, package: str) -> list[str]:
    """Installed distributions whose RECORD writes files under the top-level ``package``."""
    found = []
    for record in site_packages(venv).glob("*.dist-info/RECORD"):
        lines = record.read_text(encoding="utf-8").splitlines()
        if any(line.startswith(f"{package}/") for line in lines):
            found.append(record.parent.name.removesuffix(".dist-info"))
    return sorted(found)


def importable(python: Path, module: str) -> bool:
    """Whether ``module`` can be found (not imported) by the venv's interpreter."""
    code = f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({module!r}) else 3)"
    # Run from the venv's bin/: ``-c`` puts the working directory on sys.path; never the checkout's.
    done = subprocess.run([str(python), "-c", code], cwd=python.parent, capture_output=True, check=False)
    return done.returncode == 0


def sizes(dist: Path) -> str:
    """A Markdown table of each runtime's installed size, built in temporary venvs."""
    lines = [
        "| runtime | install | distributions | installed size | `backoff` installed by |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory(prefix="trastpay-sizes-") as temp:
        for runtime in (*RUNTIMES.values(), ALL):
            venv = Path(temp) / runtime.name.replace(" ", "-")
            install(runtime, dist, venv)
            spec = f"{PACKAGE}[{','.join(runtime.extras)}]" if runtime.extras else PACKAGE
            backoff = ", ".join(providers_of(venv, "backoff")) or "—"
            mib = installed_bytes(venv) / 2**20
            lines.append(
                f"| {runtime.name} | `{spec}` | {len(distributions(venv))} | {mib:.1f} MiB | {backoff} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build_cmd = commands.add_parser("build", help="uv build + locked constraints per runtime")
    build_cmd.add_argument("--out", type=Path, default=ROOT / "dist")
    sizes_cmd = commands.add_parser("sizes", help="installed size of each runtime from the built wheel")
    sizes_cmd.add_argument("--dist", type=Path, default=ROOT / "dist")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(build(args.out))
    else:
        print(sizes(args.dist))


if __name__ == "__main__":
    main()
