"""One version for every artifact: pyproject.toml's, and every copy the bump script maintains."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import bump_version  # noqa: E402  (scripts/ is not a package)

from trastpay import __version__  # noqa: E402

FILES = ["pyproject.toml", "CHANGELOG.md", *bump_version.COPIES]


def test_given_the_repository_then_every_copy_of_the_version_equals_pyproject() -> None:
    version = bump_version.project_version()

    assert __version__ == version
    for place, found in bump_version.copies().items():
        assert found == {version}, f"{place}: {found}"
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"| {version} |" in (ROOT / "docs/airbyte.md").read_text(encoding="utf-8")


def test_given_a_copy_of_the_files_when_bumped_then_every_copy_has_the_new_version(tmp_path: Path) -> None:
    for relative in FILES:
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / relative, tmp_path / relative)

    old = bump_version.bump("9.8.7", root=tmp_path, day="2027-01-02", lock=False)

    assert old == bump_version.project_version()
    assert bump_version.project_version(tmp_path) == "9.8.7"
    for place, found in bump_version.copies(tmp_path).items():
        assert found == {"9.8.7"}, place
    changelog = (tmp_path / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]\n\n## [9.8.7] - 2027-01-02\n" in changelog
    assert "| 9.8.7 | 2027-01-02 |" in (tmp_path / "docs/airbyte.md").read_text(encoding="utf-8")


def test_given_a_malformed_version_when_bumped_then_it_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"MAJOR\.MINOR\.PATCH"):
        bump_version.bump("1.0", root=tmp_path, lock=False)
