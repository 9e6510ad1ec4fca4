"""The connector configuration: one JSON Schema, one typed, immutable config.

:data:`CONFIG_SCHEMA` renders Airbyte's ``connectionSpecification`` and Singer's
``config_jsonschema``; :func:`parse_config` validates raw settings against it plus the checks a
schema cannot express (start date not in the future, hash key for ``pii_mode=hash``) and raises
:class:`~trastpay.errors.ConfigError` naming the field. Error messages never repeat a value, so a
misplaced secret cannot leak through them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from trastpay.cursors import TASHKENT, parse_instant
from trastpay.errors import ConfigError
from trastpay.headers import header_problem
from trastpay.masking import PiiMode

if TYPE_CHECKING:
    import jsonschema  # type: ignore[import-untyped]

CONFIG_SCHEMA: dict[str, Any] = json.loads(
    (Path(__file__).parent / "config_schema.json").read_text(encoding="utf-8")
)
SECRET_FIELDS: frozenset[str] = frozenset(
    name for name, prop in CONFIG_SCHEMA["properties"].items() if prop.get("airbyte_secret")
)
DEFAULTS: dict[str, Any] = {
    name: prop["default"] for name, prop in CONFIG_SCHEMA["properties"].items() if "default" in prop
}
"""The optional settings' defaults, read from the schema (the one place they are written)."""


@dataclass(frozen=True, slots=True)
class Backfill:
    """One window of chosen streams (and cards) to re-read while the saved state passes through unchanged."""

    start: datetime
    end: datetime
    streams: tuple[str, ...]
    card_tokens: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class TrastpayConfig:
    """Validated settings. Secrets are left out of ``repr``."""

    base_url: str
    client_id: str
    device_id: str
    refresh_token: str = field(repr=False)
    start_date: datetime
    lookback_days: int = int(DEFAULTS["lookback_days"])
    settlement_lag_days: int = int(DEFAULTS["settlement_lag_days"])
    page_size: int = int(DEFAULTS["page_size"])
    requests_per_second: float | None = None
    max_concurrency: int = int(DEFAULTS["max_concurrency"])
    timeout_seconds: float = float(DEFAULTS["timeout_seconds"])
    request_deadline_seconds: float = float(DEFAULTS["request_deadline_seconds"])
    max_response_mb: int = int(DEFAULTS["max_response_mb"])
    max_retries: int = int(DEFAULTS["max_retries"])
    card_tokens: tuple[str, ...] | None = None
    pii_mode: PiiMode = DEFAULTS["pii_mode"]
    pii_hash_key: str | None = field(default=None, repr=False)
    consent_id: str | None = None
    token_store_path: str | None = None
    end_date: datetime | None = None
    stream_start_dates: Mapping[str, datetime] = field(default_factory=dict)
    backfill: Backfill | None = None
    completeness_check: bool = bool(DEFAULTS["completeness_check"])

    def start_for(self, stream_name: str) -> datetime:
        """Where a first read of ``stream_name`` begins: its own start date, else ``start_date``."""
        return self.stream_start_dates.get(stream_name, self.start_date)

    access_token: str | None = field(default=None, repr=False)
    token_expiry_date: datetime | None = None

    def with_refresh_token(self, refresh_token: str) -> TrastpayConfig:
        """A copy holding a rotated refresh token (and no access token: it may belong to another chain)."""
        return dataclasses.replace(
            self, refresh_token=refresh_token, access_token=None, token_expiry_date=None
        )

    def with_tokens(
        self, refresh_token: str, access_token: str | None, expiry: datetime | None
    ) -> TrastpayConfig:
        """A copy holding one chain's refresh token and, when known, its current access token."""
        if not access_token or expiry is None:
            return self.with_refresh_token(refresh_token)
        return dataclasses.replace(
            self, refresh_token=refresh_token, access_token=access_token, token_expiry_date=expiry
        )


_FORMAT_HINTS = {
    "base_url": "must be an http or https URL without query string, e.g. http://127.0.0.1:8765/api/v1/trastpay",
    "start_date": "must be an RFC 3339 date or date-time with offset, e.g. 2026-01-01 or "
    "2026-01-01T00:00:00+05:00",
    "card_tokens": "every entry must be a card token like crd_7Hq2LmX9",
    "token_expiry_date": "must be an RFC 3339 date-time with offset, e.g. 2026-12-06T20:30:00Z",
}


def _field_of(error: jsonschema.ValidationError, raw: Mapping[str, Any]) -> str:
    if error.path:
        return str(error.path[0])
    if error.validator == "required":
        for name in error.validator_value:
            if name not in raw:
                return str(name)
    return "config"


def _describe(error: jsonschema.ValidationError, name: str) -> str:
    """A message for one schema violation that never quotes the offending value."""
    validator, expected = error.validator, error.validator_value
    prop = CONFIG_SCHEMA["properties"].get(name, {})
    if validator == "required":
        return f"is required ({prop.get('description', 'see the connector spec')})"
    if validator == "type":
        if name == "card_tokens" and len(error.path) > 1:
            return "every entry must be a card token string like crd_7Hq2LmX9"
        return f"must be of type {expected}"
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        high = prop.get("maximum")
        if "exclusiveMinimum" in prop:
            return f"must be greater than {prop['exclusiveMinimum']} and at most {high}"
        return f"must be between {prop.get('minimum')} and {high}"
    if validator == "minLength":
        return "must not be empty" if expected == 1 else f"must be at least {expected} characters long"
    if validator == "enum":
        return "must be one of " + ", ".join(str(v) for v in expected)
    if validator == "uniqueItems":
        return "must not list the same card token twice"
    if validator == "pattern":
        return _FORMAT_HINTS.get(name, "has the wrong format")
    return f"is invalid ({validator})"


def _check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if "@" in parts.netloc:
        # requests would send them as Basic auth in place of the token, and errors would echo them
        raise ConfigError(
            "base_url", "must not contain a user name or password (the refresh token is the credential)"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError("base_url", "must be an http or https URL with a host")
    if parts.query or parts.fragment:
        raise ConfigError("base_url", "must not contain a query string or fragment")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ConfigError("base_url", "has an invalid port") from None
    return url.rstrip("/")


def _check_start_date(text: str, now: datetime, name: str = "start_date") -> datetime:
    start = _instant(text, name)
    if start > now:
        raise ConfigError(name, "is in the future")
    return start


def _instant(text: str, name: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError:
        raise ConfigError(name, "is not a valid RFC 3339 date or date-time") from None


def _check_backfill(raw: Mapping[str, Any], end_date: datetime | None) -> Backfill:
    start = _instant(str(raw["start_date"]), "backfill.start_date")
    end = _instant(str(raw["end_date"]), "backfill.end_date")
    if end <= start:
        raise ConfigError("backfill.end_date", "must be after backfill.start_date")
    if end_date is not None and end > end_date:
        raise ConfigError("backfill.end_date", "must not be after end_date")
    cards = raw.get("card_tokens")
    return Backfill(start, end, tuple(raw["streams"]), tuple(cards) if cards else None)


_FAST: dict[int, tuple[Mapping[str, Any], Any]] = {}
"""jsonschema-rs validators by the id of their schema (the schema kept beside it, so the id stays its)."""


def _fast_allows(schema: Mapping[str, Any], instance: object) -> bool:
    """jsonschema-rs's Draft 7 verdict, False when it refuses or cannot say (then jsonschema decides)."""
    entry = _FAST.get(id(schema))
    if entry is None or entry[0] is not schema:
        try:
            import jsonschema_rs  # the [airbyte] extra installs it
        except ImportError:
            return False
        entry = _FAST[id(schema)] = (
            schema,
            jsonschema_rs.Draft7Validator(dict(schema), validate_formats=False),
        )
    try:
        return bool(entry[1].is_valid(instance))
    except (ValueError, TypeError, OverflowError):  # a value it cannot convert: let jsonschema judge it
        return False


@cache
def _config_validator() -> jsonschema.Draft7Validator:
    import jsonschema

    return jsonschema.Draft7Validator(CONFIG_SCHEMA)


def schema_allows(schema: Mapping[str, Any], instance: object) -> bool:
    """Whether ``instance`` is valid against the draft-07 ``schema``, as jsonschema's
    ``Draft7Validator`` says (formats not asserted, as there).

    jsonschema-rs answers first when installed (the ``[airbyte]`` extra): it imports in a few
    milliseconds, where jsonschema and the format checkers it imports (rfc3987, arrow...) cost
    ``check`` and ``discover`` ~0.1 s of CPU at start-up. Only when it refuses (or is not
    installed) does jsonschema decide, so where the two differ (Python's
    ``$`` also matches before a final newline, Rust's does not) the verdict is jsonschema's.
    """
    if _fast_allows(schema, instance):
        return True
    import jsonschema

    return bool(jsonschema.Draft7Validator(schema).is_valid(instance))


def parse_config(raw: Mapping[str, Any], *, now: datetime | None = None) -> TrastpayConfig:
    """Validate ``raw`` and return the typed config, or raise ``ConfigError`` naming the field.

    The schema's errors are jsonschema's (the first by path); a config jsonschema-rs accepts has
    none, so a valid config never imports jsonschema (see :func:`schema_allows`).
    """
    if not isinstance(raw, Mapping):
        raise ConfigError("config", "must be a JSON object")
    plain = dict(raw)
    if not _fast_allows(CONFIG_SCHEMA, plain):
        found = _config_validator().iter_errors(plain)
        errors = sorted(found, key=lambda e: (len(e.path), list(e.path)))
        if errors:
            first = errors[0]
            name = _field_of(first, raw)
            raise ConfigError(name, _describe(first, name))
    current = now or datetime.now(TASHKENT)
    raw = {**DEFAULTS, **raw}
    pii_mode = cast(PiiMode, raw["pii_mode"])
    pii_hash_key = raw.get("pii_hash_key")
    if pii_mode == "hash" and not pii_hash_key:
        raise ConfigError("pii_hash_key", "is required when pii_mode is 'hash'")
    if not str(raw["device_id"]).strip():
        raise ConfigError("device_id", "must not be blank")
    for name in ("device_id", "consent_id"):
        value = raw.get(name)
        if isinstance(value, str) and header_problem(value):
            raise ConfigError(
                name,
                "is sent as an HTTP header, so it may only hold visible ASCII characters and single "
                "spaces (no line breaks, control or non-ASCII characters)",
            )
    if not str(raw["client_id"]).strip():
        raise ConfigError("client_id", "must not be blank")
    card_tokens = raw.get("card_tokens")
    rps = raw.get("requests_per_second")
    start_date = _check_start_date(str(raw["start_date"]), current)
    end_date = _instant(str(raw["end_date"]), "end_date") if raw.get("end_date") else None
    if end_date is not None and end_date <= start_date:
        raise ConfigError("end_date", "must be after start_date")
    stream_starts = {
        name: _check_start_date(str(text), current, f"stream_start_dates.{name}")
        for name, text in (raw.get("stream_start_dates") or {}).items()
    }
    backfill = _check_backfill(raw["backfill"], end_date) if raw.get("backfill") else None
    access_token = raw.get("access_token")
    expiry = _check_token_expiry(access_token, raw.get("token_expiry_date"))
    return TrastpayConfig(
        base_url=_check_base_url(str(raw["base_url"])),
        client_id=str(raw["client_id"]),
        device_id=str(raw["device_id"]),
        refresh_token=str(raw["refresh_token"]),
        start_date=start_date,
        lookback_days=int(raw["lookback_days"]),
        settlement_lag_days=int(raw["settlement_lag_days"]),
        page_size=int(raw["page_size"]),
        requests_per_second=float(rps) if rps is not None else None,
        max_concurrency=int(raw["max_concurrency"]),
        timeout_seconds=float(raw["timeout_seconds"]),
        request_deadline_seconds=float(raw["request_deadline_seconds"]),
        max_response_mb=int(raw["max_response_mb"]),
        max_retries=int(raw["max_retries"]),
        card_tokens=tuple(card_tokens) if card_tokens else None,
        pii_mode=pii_mode,
        pii_hash_key=str(pii_hash_key) if pii_hash_key else None,
        consent_id=raw.get("consent_id"),
        token_store_path=raw.get("token_store_path"),
        end_date=end_date,
        stream_start_dates=stream_starts,
        backfill=backfill,
        completeness_check=bool(raw["completeness_check"]),
        access_token=str(access_token) if access_token and expiry is not None else None,
        token_expiry_date=expiry,
    )


def _check_token_expiry(access_token: object, text: object) -> datetime | None:
    """The access token's expiry: required with ``access_token``; ignored (None) without one."""
    if not access_token:
        return None
    if not text:
        raise ConfigError("token_expiry_date", "is required when access_token is set")
    try:
        return parse_instant(str(text))
    except ValueError:
        raise ConfigError("token_expiry_date", _FORMAT_HINTS["token_expiry_date"]) from None
