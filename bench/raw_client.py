"""The raw ceiling: the least work a client can do to page one card and emit JSON lines.

urllib3 with one keep-alive connection and orjson; every record goes to stdout as one line, so
the benchmark can count records by counting lines. It asks for the same pages as the connectors
(``include_commission``, page_size 1000), numbered from 1 as the contract says. Config (JSON
file): ``base_url`` (API root), ``access_token``, ``device_id``, and ``card_token`` (one card) or
none (every card of ``GET /cards``).

    python bench/raw_client.py --config C > /dev/null
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import urllib3

FROM = "2000-01-01T00:00:00+05:00"
TO = "2100-01-01T00:00:00+05:00"


def read_cards(config: dict[str, Any]) -> int:
    """Write every record of the configured card (or of every card) to stdout; answers the record count."""
    url = urlsplit(str(config["base_url"]).rstrip("/"))
    pool = urllib3.HTTPConnectionPool(
        url.hostname or "127.0.0.1", url.port, maxsize=1, retries=False, timeout=120
    )
    headers = {
        "Authorization": f"Bearer {config['access_token']}",
        "X-Device-Id": str(config["device_id"]),
        "Content-Type": "application/json",
    }
    if "card_token" in config:
        cards = [str(config["card_token"])]
    else:
        listed = pool.urlopen("GET", url.path + "/cards", headers=headers)
        cards = [str(card["card_token"]) for card in orjson.loads(listed.data)["items"]]
    out = sys.stdout.buffer
    count = 0
    for card in cards:
        page: int | None = 1  # 1-based, as the contract numbers statement pages
        while page is not None:
            body = orjson.dumps(
                {"card_token": card, "from": FROM, "to": TO, "include_commission": True, "page": page}
                | {"page_size": 1000}
            )
            response = pool.urlopen("POST", url.path + "/statement", body=body, headers=headers)
            if response.status != 200:
                raise SystemExit(f"statement page {page}: HTTP {response.status}: {response.data[:200]!r}")
            document: dict[str, Any] = orjson.loads(response.data)
            items: list[Any] = document["items"]
            out.write(b"".join(orjson.dumps(item, option=orjson.OPT_APPEND_NEWLINE) for item in items))
            count += len(items)
            page = document["next_page"]
    out.flush()
    pool.close()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, required=True, help="JSON config file")
    args = parser.parse_args()
    read_cards(orjson.loads(args.config.read_bytes()))


if __name__ == "__main__":
    main()
