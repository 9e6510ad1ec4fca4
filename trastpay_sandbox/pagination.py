"""Opaque keyset page tokens for the list endpoints.

A token is base64url of a small JSON document: the sort key ``(cursor value, primary key)`` of the
last item served, and a hash of the filters it was issued for. Presenting it with different
filters (another ``since``/``until`` or parent) is a client bug, answered with a 400 naming
``page_token`` instead of silently serving a page of a different listing. ``page_size`` is not a
filter and may change between pages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping

import orjson

from trastpay_sandbox.problems import invalid

_VERSION = 1


def filters_hash(filters: Mapping[str, str | int | None]) -> str:
    """A short, order-independent digest of the filters a listing was asked with."""
    canonical = orjson.dumps({k: filters[k] for k in sorted(filters)})
    return hashlib.sha256(canonical).hexdigest()[:16]


def encode_page_token(after: tuple[str, str], filters: Mapping[str, str | int | None]) -> str:
    document = {"v": _VERSION, "k": [after[0], after[1]], "f": filters_hash(filters)}
    return base64.urlsafe_b64encode(orjson.dumps(document)).rstrip(b"=").decode("ascii")


def decode_page_token(token: str, filters: Mapping[str, str | int | None]) -> tuple[str, str]:
    """The after-key carried by ``token``.

    400 naming ``page_token`` if it is malformed or was issued for other filters.
    """
    if not token or len(token) > 2048:
        raise invalid("page_token", "'page_token' is empty or too long")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        document = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise invalid("page_token", "'page_token' is not a token this API issued") from None
    if (
        not isinstance(document, dict)
        or document.get("v") != _VERSION
        or not isinstance(document.get("k"), list)
        or len(document["k"]) != 2
        or not all(isinstance(part, str) for part in document["k"])
        or not isinstance(document.get("f"), str)
    ):
        raise invalid("page_token", "'page_token' is not a token this API issued")
    if document["f"] != filters_hash(filters):
        raise invalid(
            "page_token",
            "'page_token' was issued for different filters; repeat since/until of the first request",
        )
    key: list[str] = document["k"]
    return key[0], key[1]
