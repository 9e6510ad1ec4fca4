"""The integrator docs agree with the code: generated tables are current, every stream and field is
documented, and the docs link to files and anchors that exist."""

from __future__ import annotations

import re
import runpy
from pathlib import Path
from typing import Any

import pytest

from trastpay.schemas import load_schema
from trastpay.streams import STREAMS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SCRIPT = ROOT / "scripts" / "render_streams_reference.py"
INTEGRATOR_DOCS = ("streams.md", "auth-flow.md", "runbook.md", "compliance.md")


@pytest.fixture(scope="module")
def renderer() -> dict[str, Any]:
    return runpy.run_path(str(SCRIPT))


@pytest.fixture(scope="module")
def streams_doc() -> str:
    return (DOCS / "streams.md").read_text(encoding="utf-8")


def _block(text: str, tag: str) -> str:
    match = re.search(rf"<!-- BEGIN {re.escape(tag)} -->\n(.*?)<!-- END {re.escape(tag)} -->", text, re.S)
    assert match is not None, f"docs/streams.md has no block {tag}"
    return match.group(1)


def test_given_streams_doc_when_rendered_from_code_then_nothing_changes(
    renderer: dict[str, Any], streams_doc: str
) -> None:
    assert renderer["missing_blocks"](streams_doc) == []
    assert renderer["render"](streams_doc) == streams_doc, (
        "run: python scripts/render_streams_reference.py --write"
    )


def test_given_stale_field_table_when_checked_then_script_reports_it(renderer: dict[str, Any]) -> None:
    stale = "<!-- BEGIN fields:cards -->\n| old |\n<!-- END fields:cards -->\n"
    rendered = renderer["render"](stale)
    assert "| old |" not in rendered
    assert "| `pan_masked` |" in rendered
    assert renderer["missing_blocks"](stale) != []


@pytest.mark.parametrize("stream", STREAMS, ids=lambda s: s.name)
def test_given_stream_when_reading_reference_then_it_has_a_section_and_every_field(
    stream: Any, streams_doc: str
) -> None:
    assert f"### `{stream.name}`" in streams_doc
    table = _block(streams_doc, f"fields:{stream.name}")
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| `([^`]+)` \| [^|]+ \| (?:yes|no) \| (.*) \|$", table, re.M)
    }
    properties = load_schema(stream.name)["properties"]
    assert list(rows) == list(properties), f"field table of {stream.name} differs from its schema"
    undocumented = [name for name, text in rows.items() if len(text.strip()) < 8]
    assert not undocumented, f"{stream.name}: fields without a description: {undocumented}"


@pytest.mark.parametrize("stream", STREAMS, ids=lambda s: s.name)
def test_given_stream_when_reading_summary_then_keys_cursor_and_parent_match_the_code(
    stream: Any, streams_doc: str
) -> None:
    summary = _block(streams_doc, f"summary:{stream.name}")
    for key in stream.primary_key:
        assert f"`{key}`" in summary.split("| primary key |")[1].split("\n")[0]
    cursor_row = summary.split("| cursor |")[1].split("\n")[0]
    assert (f"`{stream.cursor_field}`" if stream.cursor_field else "none") in cursor_row
    if stream.parent:
        assert f"`{stream.parent}`" in summary


def test_given_nullable_schema_field_when_rendered_then_marked_nullable(renderer: dict[str, Any]) -> None:
    from trastpay.streams import get_stream

    rows = {row.name: row for row in renderer["field_rows"](get_stream("card_transactions"))}
    assert rows["posted_at"].nullable is True
    assert rows["occurred_at"].nullable is False
    assert rows["amount_minor"].type == "integer (int64, minor units)"
    assert "pii_mode" in rows["counterparty_name"].description


def test_given_streams_doc_when_read_then_er_diagram_names_only_real_streams(streams_doc: str) -> None:
    diagram = streams_doc.split("```mermaid", 1)[1].split("```", 1)[0]
    names = set(re.findall(r"^\s+([a-z_]+) [|}o]", diagram, re.M))
    names |= set(re.findall(r"--[|o{]+ ([a-z_]+) :", diagram))
    known = {s.name for s in STREAMS}
    assert names, "no relation found in the ER diagram"
    assert names <= known, f"unknown entities in the diagram: {sorted(names - known)}"


@pytest.mark.parametrize("doc", INTEGRATOR_DOCS)
def test_given_integrator_doc_when_links_followed_then_files_and_anchors_exist(doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+://", target):
            continue
        path_part, _, anchor = target.partition("#")
        path = (DOCS / path_part).resolve() if path_part else DOCS / doc
        if not path.exists():
            broken.append(target)
            continue
        if anchor and path.suffix == ".md" and anchor not in _anchors(path.read_text(encoding="utf-8")):
            broken.append(target)
    assert not broken, f"{doc}: broken links {broken}"


@pytest.mark.parametrize("doc", INTEGRATOR_DOCS)
def test_given_integrator_doc_when_read_then_mermaid_blocks_are_closed(doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    assert text.count("```") % 2 == 0
    if doc in ("streams.md", "auth-flow.md"):
        assert "```mermaid" in text


def _anchors(markdown: str) -> set[str]:
    """GitHub-style heading anchors: lower case, punctuation dropped, spaces to dashes."""
    anchors = set()
    for heading in re.findall(r"^#{1,6} (.+)$", markdown, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        anchors.add(slug)
    return anchors
