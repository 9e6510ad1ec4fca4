"""Framework-default baseline: a plain singer-sdk ``RESTStream`` tap for ``POST /statement``.

One card's transactions at page_size 1000 with the SDK's defaults (its paginator, JSONPath record
extraction, default writer), for comparison with ``tap-trastpay``. Settings: ``base_url``,
``access_token``, ``device_id``, ``card_token``.

    python bench/baselines/singer_reststream/tap.py --config C
"""

from __future__ import annotations

from typing import Any

import requests
from singer_sdk import RESTStream, Tap
from singer_sdk import typing as th
from singer_sdk.pagination import BaseAPIPaginator

FROM = "2000-01-01T00:00:00+05:00"
TO = "2100-01-01T00:00:00+05:00"


class NextPagePaginator(BaseAPIPaginator[int | None]):
    """Follows the ``next_page`` number of each answer."""

    def get_next(self, response: requests.Response) -> int | None:
        page: int | None = response.json().get("next_page")
        return page


class CardTransactions(RESTStream[int | None]):
    """Pages one card's statement."""

    name = "card_transactions"
    path = "/statement"
    rest_method = "POST"
    primary_keys = ("id",)
    records_jsonpath = "$.items[*]"
    schema = th.PropertiesList(
        th.Property("id", th.StringType),
        th.Property("occurred_at", th.StringType),
        th.Property("amount_minor", th.IntegerType),
        th.Property("currency", th.StringType),
    ).to_dict() | {"additionalProperties": True}

    @property
    def url_base(self) -> str:
        return str(self.config["base_url"]).rstrip("/")

    @property
    def http_headers(self) -> dict[str, Any]:
        return {
            "Authorization": f"Bearer {self.config['access_token']}",
            "X-Device-Id": self.config["device_id"],
        }

    def get_new_paginator(self) -> NextPagePaginator:
        return NextPagePaginator(0)

    def prepare_request_payload(self, context: Any, next_page_token: int | None) -> dict[str, Any]:
        return {
            "card_token": self.config["card_token"],
            "from": FROM,
            "to": TO,
            "page": next_page_token or 0,
            "page_size": 1000,
        }


class TapBaseline(Tap):
    """The smallest tap around the one stream."""

    name = "tap-baseline"
    config_jsonschema = th.PropertiesList(
        th.Property("base_url", th.StringType, required=True),
        th.Property("access_token", th.StringType, required=True, secret=True),
        th.Property("device_id", th.StringType, required=True),
        th.Property("card_token", th.StringType, required=True),
    ).to_dict()

    def discover_streams(self) -> list[CardTransactions]:
        return [CardTransactions(self)]


if __name__ == "__main__":
    TapBaseline.cli()
