"""Set the one version of every artifact: ``python scripts/bump_version.py 0.2.0`` (``make bump-version``).

pyproject.toml's ``version`` is the source: the wheel, the sdist and the code
(``importlib.metadata``) take it from there. A few files cannot read it and carry a copy; this
script rewrites each of them, turns CHANGELOG.md's Unreleased section into the release, adds the
release to the changelog table in docs/airbyte.md and refreshes uv.lock (which records the
project's version). :func:`copies` lists every copy; tests/distribution/test_version.py checks they
all equal pyproject's version, so a copy the script misses fails the tests.
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VERSION = re.compile(r"^\d+\.\d+\.\d+$")

COPIES: dict[str, tuple[str, ...]] = {
    "Dockerfile": (r"io\.airbyte\.version=(?P<v>[\w.]+)", r"source-trastpay:(?P<v>[\w.]+) \."),
    "metadata.yaml": (r"dockerImageTag: (?P<v>[\w.]+)",),
    "meltano.yml": (r"trastpay-connectors\[singer\]==(?P<v>[\w.]+)",),
    "clients/node/package.json": (r'^  "version": "(?P<v>[\w.]+)"',),
    "docs/airbyte.md": (r"source-trastpay:(?P<v>[\w.]+)", r"Docker image tag: `(?P<v>[\w.]+)`"),
}
"""Files that carry a copy of the version, each with the patterns of every place it appears."""


def project_version(root: Path = ROOT) -> str:
    version: str = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    return version


def copies(root: Path = ROOT) -> dict[str, set[str]]:
    """Every version found in each copy, per ``file: pattern``; a missing place counts as ``{}``."""
    found: dict[str, set[str]] = {}
    for relative, patterns in COPIES.items():
        text = (root / relative).read_text(encoding="utf-8")
        for pattern in patterns:
            found[f"{relative}: {pattern}"] = {m["v"] for m in re.finditer(pattern, text, flags=re.MULTILINE)}
    return found


def _replace_versions(text: str, pattern: str, new: str) -> str:
    def swap(match: re.Match[str]) -> str:
        start, end = match.span("v")
        offset = match.start()
        whole = match.group(0)
        return whole[: start - offset] + new + whole[end - offset :]

    return re.sub(pattern, swap, text, flags=re.MULTILINE)


def _release_changelog(text: str, old: str, new: str, day: str) -> str:
    if f"## [{new}]" in text:
        raise SystemExit(f"CHANGELOG.md already has a section for {new}")
    text = text.replace("## [Unreleased]\n", f"## [Unreleased]\n\n## [{new}] - {day}\n", 1)
    base = "https://github.com/trastpay-connectors/trastpay-connectors"
    text = re.sub(
        r"^\[Unreleased\]: .*$",
        f"[Unreleased]: {base}/compare/v{new}...HEAD\n[{new}]: {base}/compare/v{old}...v{new}",
        text,
        count=1,
        flags=re.MULTILINE,
    )
    return text


def _changelog_row(text: str, new: str, day: str) -> str:
    header = "| Version | Date | Subject |\n|---|---|---|\n"
    if header not in text:
        raise SystemExit("docs/airbyte.md has no changelog table")
    return text.replace(header, f"{header}| {new} | {day} | See CHANGELOG.md |\n", 1)


def bump(new: str, *, root: Path = ROOT, day: str | None = None, lock: bool = True) -> str:
    """Write ``new`` everywhere; answer the previous version."""
    if not VERSION.match(new):
        raise SystemExit(f"version must be MAJOR.MINOR.PATCH, got {new!r}")
    old = project_version(root)
    if new == old:
        raise SystemExit(f"the version is {old} already")
    day = day or datetime.datetime.now(datetime.UTC).date().isoformat()
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace(f'\nversion = "{old}"\n', f'\nversion = "{new}"\n', 1), encoding="utf-8"
    )
    for relative, patterns in COPIES.items():
        path = root / relative
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            text = _replace_versions(text, pattern, new)
        if relative == "docs/airbyte.md":
            text = _changelog_row(text, new, day)
        path.write_text(text, encoding="utf-8")
    changelog = root / "CHANGELOG.md"
    changelog.write_text(
        _release_changelog(changelog.read_text(encoding="utf-8"), old, new, day), encoding="utf-8"
    )
    if lock:
        subprocess.run([str(root / ".uv" / "bin" / "uv"), "lock"], cwd=root, check=True)
    return old


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Set the version of every artifact.")
    parser.add_argument("version", help="the new version, MAJOR.MINOR.PATCH")
    args = parser.parse_args(argv)
    old = bump(args.version)
    print(f"{old} -> {args.version}: pyproject.toml, {', '.join(COPIES)}, CHANGELOG.md, uv.lock")


if __name__ == "__main__":
    main()
