"""Claims in the docs that must match the code and the metadata (issue 13's misleading sentences)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import yaml

from trastpay_sandbox.webhooks import WebhookDispatcher

ROOT = Path(__file__).resolve().parent.parent


def test_given_the_runbook_when_it_counts_webhook_deliveries_then_it_counts_attempts_like_the_code() -> None:
    attempts = inspect.signature(WebhookDispatcher).parameters["max_attempts"].default
    runbook = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")

    assert f"up to {attempts}\n  delivery attempts in all (the first and {attempts - 1} retries)" in runbook
    assert not re.search(r"retried up to \d+\s+times", runbook)


def test_given_metadata_disables_cloud_when_the_docs_name_platforms_then_none_offers_airbyte_cloud() -> None:
    metadata = yaml.safe_load((ROOT / "metadata.yaml").read_text(encoding="utf-8"))
    assert metadata["data"]["registryOverrides"]["cloud"]["enabled"] is False
    for page in (ROOT / "README.md", ROOT / "docs" / "airbyte.md", ROOT / "docs" / "auth-flow.md"):
        text = page.read_text(encoding="utf-8")
        assert "OSS / Cloud" not in text, page.name
        assert "Cloud custom connector" not in text, page.name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "Airbyte OSS and Enterprise" in readme
    assert "PyAirbyte" in readme
    assert "docs/quickstart.md" in readme


def test_given_the_airbyte_page_when_it_shows_the_login_then_it_writes_the_tokens_it_promises() -> None:
    page = (ROOT / "docs" / "airbyte.md").read_text(encoding="utf-8")
    assert "prints the refresh token" not in page
    assert "--for airbyte" in page
    assert (
        "target-jsonl"
        not in (ROOT / "docs" / "singer.md")
        .read_text(encoding="utf-8")
        .split("## Plain Singer pipes")[1]
        .split("##")[0]
    )
