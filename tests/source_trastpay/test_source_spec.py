"""The Airbyte spec is the core's config schema, with secrets marked and Singer-only settings left out."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import yaml

from source_trastpay.source import SourceTrastpay
from source_trastpay.spec import DOCUMENTATION_URL, SINGER_ONLY_FIELDS, connection_specification
from trastpay.config import CONFIG_SCHEMA
from trastpay.streams import STREAMS

ROOT = Path(__file__).resolve().parents[2]


def test_given_spec_when_rendered_then_secret_fields_are_airbyte_secrets() -> None:
    properties = connection_specification()["properties"]

    assert properties["refresh_token"]["airbyte_secret"] is True
    assert properties["pii_hash_key"]["airbyte_secret"] is True
    assert not properties["device_id"].get("airbyte_secret")


def test_given_spec_when_rendered_then_every_core_field_but_singer_only_ones_is_offered() -> None:
    spec = connection_specification()

    assert set(spec["properties"]) == set(CONFIG_SCHEMA["properties"]) - set(SINGER_ONLY_FIELDS)
    assert spec["required"] == CONFIG_SCHEMA["required"]
    assert all(name in CONFIG_SCHEMA["properties"] for name in SINGER_ONLY_FIELDS)


def test_given_spec_command_when_run_then_documentation_url_and_incremental_support_are_declared() -> None:
    spec = SourceTrastpay().spec(logging.getLogger("test"))

    assert spec.connectionSpecification["properties"]["refresh_token"]["airbyte_secret"] is True
    assert spec.documentationUrl == DOCUMENTATION_URL
    assert spec.supportsIncremental is True


def test_given_spec_when_caller_mutates_it_then_next_spec_is_unchanged() -> None:
    connection_specification()["properties"].clear()

    assert "refresh_token" in connection_specification()["properties"]


def test_given_metadata_when_compared_then_documentation_url_matches_spec() -> None:
    metadata = yaml.safe_load((ROOT / "metadata.yaml").read_text(encoding="utf-8"))

    assert metadata["data"]["documentationUrl"] == DOCUMENTATION_URL


def _table_rows(markdown: str, header: str) -> dict[str, list[str]]:
    lines = markdown.splitlines()
    start = lines.index(header) + 2
    rows: dict[str, list[str]] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_given_docs_when_compared_with_spec_then_config_table_lists_every_setting_and_its_default() -> None:
    docs = (ROOT / "docs" / "airbyte.md").read_text(encoding="utf-8")
    rows = _table_rows(docs, "| setting | required | type | default | description |")
    spec = connection_specification()

    assert set(rows) == set(spec["properties"])
    for name, prop in spec["properties"].items():
        required, _type, default, _description = rows[name]
        assert required == ("yes" if name in spec["required"] else "no"), name
        expected_default = prop.get("default")
        shown = json.dumps(expected_default) if isinstance(expected_default, bool) else str(expected_default)
        assert default.strip("`") == ("—" if expected_default is None else shown), name


def test_given_docs_when_compared_with_core_streams_then_streams_table_matches_keys_and_cursors() -> None:
    docs = (ROOT / "docs" / "airbyte.md").read_text(encoding="utf-8")
    rows = _table_rows(docs, "| stream | primary key | cursor | sync modes | state per |")

    assert list(rows) == [stream.name for stream in STREAMS]
    for stream in STREAMS:
        primary_key, cursor, modes, _state = rows[stream.name]
        assert primary_key == ", ".join(f"`{field}`" for field in stream.primary_key)
        assert cursor == (f"`{stream.cursor_field}`" if stream.cursor_field else "—")
        assert ("incremental" in modes) is stream.incremental
