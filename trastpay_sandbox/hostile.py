"""Hostile-data switches: answers whose *content* is wrong, not their status or timing.

:mod:`trastpay_sandbox.faults` breaks the transport (429s, 5xx, resets, slowness); these switches
break the data a connector has to parse and pass on, the way a buggy or compromised partner API
would. They are set like every other fault switch (``--faults`` or ``POST /_sandbox/faults``);
:mod:`trastpay_sandbox.switches` checks them and
:class:`~trastpay_sandbox.hostile_middleware.HostileMiddleware` applies them to the data routes.

Switches (see the sandbox README for examples):

``corrupt_page`` {kind, every_n | next_n, stream?}
    a 200 data page that is HTML (with a card number in it), truncated mid-record, JSON with
    ``NaN``, a top-level array instead of the ``{items, next_page}`` object, or a page whose
    middle item is an array (``item_array``).
``schema_drift`` {stream, add_field?, remove_field?, change_type?}
    every item of ``stream`` gains a field, loses one, or has one change JSON type.
``hostile_strings`` {streams?, fields?, pad_kb?}
    text fields carry RTL and zero-width marks, NUL, CR/LF, U+2028, emoji, combining marks and
    Uzbek apostrophes (ʻ ’ ‘), optionally padded to ``pad_kb`` KiB.
``plant_pan`` {in, error_every_n?, error_status?}
    Luhn-valid card numbers in ``records``, ``error_body`` answers, response ``headers`` and
    ``url`` page tokens.
``huge_page`` {page_size}
    the server ignores the page size asked for and serves pages of ``page_size`` items.
``record_secrets`` true
    remember every token and OTP issued, for a leak scan (``GET /_sandbox/issued-secrets``).

``schema_drift`` and ``hostile_strings`` are applied to ``/_sandbox/truth`` too (via
:func:`rewrite_truth`), so a connector's output can be compared with the truth byte for byte;
planted card numbers are not (the truth never holds a full PAN).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from trastpay_sandbox.world.cards import luhn_check_digit

DEFAULT_TEXT_FIELDS: tuple[str, ...] = (
    "merchant_name",
    "merchant_city",
    "description",
    "counterparty_name",
    "receiver_name",
    "failure_reason",
    "provider_name",
)


def luhn_complete(prefix: str) -> str:
    """``prefix`` plus the Luhn check digit that makes it a valid card number."""
    return prefix + luhn_check_digit(prefix)


PLANTED_PANS: tuple[str, ...] = (
    luhn_complete("860030123456789"),  # UZCARD, Trastbank BIN, 16 digits
    luhn_complete("986018765432101"),  # HUMO, 16 digits
    luhn_complete("409784111122223"),  # Visa, 16 digits
    luhn_complete("986012000011112222"),  # 19 digits
    luhn_complete("400000000000"),  # 13 digits
)
"""The full card numbers the ``plant_pan`` switch hides in answers; none may reach an output."""


def grouped(pan: str, separator: str) -> str:
    """``pan`` in groups of four, as people type it (``8600 3012 3456 7895``)."""
    return separator.join(pan[i : i + 4] for i in range(0, len(pan), 4))


HOSTILE_SAMPLES: tuple[str, ...] = (
    "Oʻzbekiston",  # U+02BB modifier letter turned comma: the official Uzbek ʻ
    "G‘ijduvon",  # U+2018
    "Toshkent’s",  # U+2019
    "O'zbek",  # plain apostrophe
    "\u200fمتجر\u200f",  # RTL marks around Arabic script
    "\u202eevil\u202c",  # right-to-left override, pop
    "zero\u200bwidth\u200d\ufeffjoin",  # ZWSP, ZWJ, BOM
    "nul\u0000byte",
    "line\r\nbreak\rcr\nlf",
    "tab\tand\u000bvt\u000cff",
    "sep\u2028line\u2029para\u0085nel",
    "emoji 👨\u200d👩\u200d👧 🇺🇿 💳",
    "combining e\u0301 vs é",  # not normalised: NFD and NFC stay distinct
    'quote " backslash \\ slash /',
    "</script><b>&amp;</b>",
    "\U0001f600\U0010fffd",  # astral plane incl. a private-use code point
)
"""Strings a connector must carry unchanged: every one is valid Unicode and valid JSON."""

_PAD_UNIT = "Oʻzbekiston 🇺🇿 Toshkent ‘G‘ijduvon’ — "


# --- record rewrites (shared by the data routes and the truth hook) ---------------------------


def _record_key(record: Mapping[str, Any]) -> str:
    for key in ("id", "card_token", "month"):
        value = record.get(key)
        if value is not None:
            return str(value)
    return ""


def hostile_text(original: object, record_key: str, pad_kb: int = 0) -> str:
    """The hostile version of one text value: deterministic per record, every sample included."""
    start = zlib.crc32(record_key.encode("utf-8")) % len(HOSTILE_SAMPLES)
    samples = HOSTILE_SAMPLES[start:] + HOSTILE_SAMPLES[:start]
    text = ("" if original is None else str(original)) + " | " + " | ".join(samples)
    if pad_kb:
        unit = _PAD_UNIT.encode("utf-8")
        repeats = pad_kb * 1024 // len(unit) + 1
        text += " " + _PAD_UNIT * repeats
    return text


def _changed_type(value: Any) -> Any:
    """A value of another JSON type than ``value`` (the drift a careless API change causes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value + 0.25
    if isinstance(value, float):
        return str(value)
    if isinstance(value, str):
        return len(value)
    if value is None:
        return 0
    return repr(value)


def rewrite_record(config: Mapping[str, Any], stream: str, record: dict[str, Any]) -> dict[str, Any]:
    """Apply ``hostile_strings`` and ``schema_drift`` to one record (a changed copy; input untouched)."""
    strings = config.get("hostile_strings")
    drift = config.get("schema_drift")
    wants_strings = strings is not None and (strings["streams"] is None or stream in strings["streams"])
    wants_drift = drift is not None and drift["stream"] == stream
    if not wants_strings and not wants_drift:
        return record
    out = dict(record)
    key = _record_key(record)
    if wants_strings:
        assert strings is not None
        for field in strings["fields"]:
            if field in out and (out[field] is None or isinstance(out[field], str)):
                out[field] = hostile_text(out[field], key, strings["pad_kb"])
    if wants_drift:
        assert drift is not None
        if "remove_field" in drift:
            out.pop(drift["remove_field"], None)
        if "change_type" in drift and drift["change_type"] in out:
            out[drift["change_type"]] = _changed_type(out[drift["change_type"]])
        if "add_field" in drift:
            out[drift["add_field"]] = f"added:{key}"
    return out


def rewrite_truth(
    config: Mapping[str, Any], stream: str, records: Iterable[dict[str, Any]]
) -> Iterator[dict[str, Any]]:
    """The truth as the hostile data routes serve it (strings and drift; never planted PANs)."""
    if "hostile_strings" not in config and "schema_drift" not in config:
        yield from records
        return
    for record in records:
        yield rewrite_record(config, stream, record)


def plant_pans_in_record(record: dict[str, Any], index: int) -> None:
    """Hide full card numbers in ``record`` (in place): PAN fields, free text, names, new fields."""
    pan = PLANTED_PANS[index % len(PLANTED_PANS)]
    other = PLANTED_PANS[(index + 1) % len(PLANTED_PANS)]
    for field, value in list(record.items()):
        if field.endswith("pan_masked") or field == "pan":
            record[field] = pan
        elif (field in DEFAULT_TEXT_FIELDS or field in ("holder_name", "location")) and (
            value is None or isinstance(value, str)
        ):
            record[field] = f"{value or ''} card {grouped(other, ' ')} / {grouped(pan, '-')}"
    record["card_number"] = pan
    record["pan_meta"] = {"pan": other, "note": f"paid with {grouped(pan, ' ')}", "cards": [other]}


def pan_error_body(status: int) -> bytes:
    """A problem+json answer whose title and detail both carry a full card number."""
    pan = PLANTED_PANS[0]
    return (
        b'{"type":"https://sandbox.trastpay.uz/problems/internal","title":"Card %s rejected",'
        b'"status":%d,"detail":"upstream said: card %s (%s) is blocked"}'
        % (pan.encode(), status, grouped(pan, " ").encode(), grouped(PLANTED_PANS[1], "-").encode())
    )


def html_page() -> bytes:
    """What a misconfigured proxy answers with 200: an HTML page, card number included."""
    return (
        b"<!DOCTYPE html><html><head><title>Gateway notice</title></head><body>"
        b"<h1>Session check</h1><p>Card %s needs verification.</p></body></html>"
        % grouped(PLANTED_PANS[2], " ").encode()
    )


__all__ = [
    "DEFAULT_TEXT_FIELDS",
    "HOSTILE_SAMPLES",
    "PLANTED_PANS",
    "grouped",
    "hostile_text",
    "luhn_complete",
    "plant_pans_in_record",
    "rewrite_record",
    "rewrite_truth",
]
