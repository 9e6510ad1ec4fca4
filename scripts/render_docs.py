"""Render the README's generated tables from the code: streams (trastpay/streams.py) and settings
(trastpay/config_schema.json). ``python scripts/render_docs.py --write`` rewrites the blocks between
the ``<!-- BEGIN name -->`` / ``<!-- END name -->`` markers; tests/test_docs.py fails when they drift.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from trastpay.streams import STREAMS  # noqa: E402


def streams_table() -> str:
    lines = [
        "| stream | primary key | cursor | sync modes | partitioned by | how changes are captured |",
        "|---|---|---|---|---|---|",
    ]
    for s in STREAMS:
        modes = "full refresh, incremental" if s.incremental else "full refresh"
        parent = f"{s.parent} (`{s.partition_field}`)" if s.parent else "—"
        cursor = f"`{s.cursor_field}`" if s.cursor_field else "—"
        key = ", ".join(f"`{k}`" for k in s.primary_key)
        lines.append(f"| `{s.name}` | {key} | {cursor} | {modes} | {parent} | {s.changes} |")
    return "\n".join(lines)


def settings_table() -> str:
    import json

    schema = json.loads((ROOT / "trastpay" / "config_schema.json").read_text(encoding="utf-8"))
    required = set(schema.get("required", []))
    lines = ["| setting | required | default | secret | description |", "|---|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        default = prop.get("default")
        text = json.dumps(default) if isinstance(default, bool) else default
        shown = "—" if default is None else f"`{text}`"
        secret = "yes" if prop.get("airbyte_secret") or prop.get("secret") else ""
        description = " ".join(str(prop.get("description", "")).split())
        lines.append(
            f"| `{name}` | {'yes' if name in required else ''} | {shown} | {secret} | {description} |"
        )
    return "\n".join(lines)


BLOCKS = {"streams": streams_table, "settings": settings_table}


def _replacement(block: str) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        return match.group(1) + block + "\n" + match.group(2)

    return replace


def render(text: str) -> str:
    for name, build in BLOCKS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n)(?:.*?\n)?(<!-- END {name} -->)", re.S)
        if pattern.search(text):
            text = pattern.sub(_replacement(build()), text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="rewrite README.md in place")
    args = parser.parse_args()
    readme = ROOT / "README.md"
    current = readme.read_text(encoding="utf-8")
    rendered = render(current)
    if args.write:
        readme.write_text(rendered, encoding="utf-8")
        return 0
    if rendered != current:
        print("README.md tables are out of date: run python scripts/render_docs.py --write")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
