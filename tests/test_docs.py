from __future__ import annotations

import runpy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_given_readme_when_tables_rendered_from_code_then_nothing_changes() -> None:
    render = runpy.run_path(str(ROOT / "scripts" / "render_docs.py"))["render"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert render(readme) == readme, "run: python scripts/render_docs.py --write"


def test_given_readme_when_read_then_every_stream_is_documented() -> None:
    from trastpay.streams import STREAMS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [s.name for s in STREAMS if f"| `{s.name}` |" not in readme]
    assert not missing
