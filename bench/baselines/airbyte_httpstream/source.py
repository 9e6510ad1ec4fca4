"""Framework-default baseline: a plain airbyte-cdk ``HttpStream`` source for ``POST /statement``.

It reads one card's transactions at page_size 1000 with the CDK's defaults (requests session,
``AirbyteEntrypoint`` serialisation, no tuning) so the benchmark can compare the real connector
with what the SDK gives out of the box. Config: ``base_url``, ``access_token``, ``device_id``,
``card_token``.

    python bench/baselines/airbyte_httpstream/source.py read --config C --catalog K
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

import requests
from airbyte_cdk.entrypoint import launch
from airbyte_cdk.models import ConnectorSpecification  # type: ignore[attr-defined]  # re-exported via *-import
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.http import HttpStream

FROM = "2000-01-01T00:00:00+05:00"
TO = "2100-01-01T00:00:00+05:00"


class CardTransactions(HttpStream):
    """Pages one card's statement; the page number is the next-page token."""

    primary_key = "id"
    http_method = "POST"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__()
        self._config = config

    @property
    def name(self) -> str:
        return "card_transactions"

    @property
    def url_base(self) -> str:
        return str(self._config["base_url"]).rstrip("/") + "/"

    def path(self, **kwargs: Any) -> str:
        return "statement"

    def request_headers(
        self,
        stream_state: Mapping[str, Any] | None,
        stream_slice: Mapping[str, Any] | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        return {
            "Authorization": f"Bearer {self._config['access_token']}",
            "X-Device-Id": self._config["device_id"],
        }

    def request_body_json(
        self,
        stream_state: Mapping[str, Any] | None,
        stream_slice: Mapping[str, Any] | None = None,
        next_page_token: Mapping[str, Any] | None = None,
    ) -> Mapping[str, Any]:
        page = next_page_token["page"] if next_page_token else 0
        return {
            "card_token": self._config["card_token"],
            "from": FROM,
            "to": TO,
            "page": page,
            "page_size": 1000,
        }

    def next_page_token(self, response: requests.Response) -> Mapping[str, Any] | None:
        page = response.json().get("next_page")
        return None if page is None else {"page": page}

    def parse_response(
        self, response: requests.Response, **kwargs: Any
    ) -> Iterable[MutableMapping[str, Any]]:
        yield from response.json()["items"]

    def get_json_schema(self) -> Mapping[str, Any]:  # type: ignore[override]  # CDK's is an lru_cache
        return {"type": "object", "additionalProperties": True, "properties": {"id": {"type": "string"}}}


class BaselineSource(AbstractSource):
    """The smallest source around the one stream."""

    def spec(self, logger: Any) -> ConnectorSpecification:
        """The spec inline: run as a script, the CDK cannot find a packaged spec file."""
        required = ["base_url", "access_token", "device_id", "card_token"]
        properties = {name: {"type": "string"} for name in required}
        schema = {"type": "object", "required": required, "properties": properties}
        return ConnectorSpecification(connectionSpecification=schema)

    def check_connection(self, logger: Any, config: Mapping[str, Any]) -> tuple[bool, Any]:
        return True, None

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        return [CardTransactions(config)]


if __name__ == "__main__":
    launch(BaselineSource(), sys.argv[1:])
