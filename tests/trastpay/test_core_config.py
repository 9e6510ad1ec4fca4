"""Config: one JSON Schema, a typed config, and errors that name the field without leaking secrets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from trastpay.config import CONFIG_SCHEMA, SECRET_FIELDS, TrastpayConfig, parse_config
from trastpay.cursors import TASHKENT
from trastpay.errors import ConfigError

from .builders import NOW, REFRESH_TOKEN, ConfigBuilder

HASH_KEY = "pii-hash-key-SECRET-123456"

INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("missing base_url", {"base_url": None}, "base_url"),
    ("ftp base_url", {"base_url": "ftp://127.0.0.1/api"}, "base_url"),
    ("base_url without host", {"base_url": "http://"}, "base_url"),
    ("base_url with query", {"base_url": "http://127.0.0.1:8765/api?x=1"}, "base_url"),
    ("base_url not a string", {"base_url": 8765}, "base_url"),
    ("missing client_id", {"client_id": None}, "client_id"),
    ("blank client_id", {"client_id": "   "}, "client_id"),
    ("empty device_id", {"device_id": ""}, "device_id"),
    ("blank device_id", {"device_id": "  "}, "device_id"),
    ("missing device_id", {"device_id": None}, "device_id"),
    ("missing refresh_token", {"refresh_token": None}, "refresh_token"),
    ("empty refresh_token", {"refresh_token": ""}, "refresh_token"),
    ("missing start_date", {"start_date": None}, "start_date"),
    ("start_date garbage", {"start_date": "yesterday"}, "start_date"),
    ("start_date impossible day", {"start_date": "2026-02-30"}, "start_date"),
    ("start_date without offset", {"start_date": "2026-01-01T00:00:00"}, "start_date"),
    ("start_date in the future", {"start_date": (NOW + timedelta(days=2)).isoformat()}, "start_date"),
    ("negative lookback", {"lookback_days": -1}, "lookback_days"),
    ("lookback over 90", {"lookback_days": 91}, "lookback_days"),
    ("lookback as string", {"lookback_days": "7"}, "lookback_days"),
    ("settlement lag over 30", {"settlement_lag_days": 31}, "settlement_lag_days"),
    ("page_size zero", {"page_size": 0}, "page_size"),
    ("page_size over 1000", {"page_size": 1001}, "page_size"),
    ("page_size fractional", {"page_size": 10.5}, "page_size"),
    ("requests_per_second zero", {"requests_per_second": 0}, "requests_per_second"),
    ("max_concurrency 17", {"max_concurrency": 17}, "max_concurrency"),
    ("timeout zero", {"timeout_seconds": 0}, "timeout_seconds"),
    ("max_retries negative", {"max_retries": -1}, "max_retries"),
    ("card_tokens not a list", {"card_tokens": "crd_A1"}, "card_tokens"),
    ("card_tokens with a PAN", {"card_tokens": ["8600301234566311"]}, "card_tokens"),
    ("card_tokens duplicated", {"card_tokens": ["crd_A1", "crd_A1"]}, "card_tokens"),
    ("unknown pii_mode", {"pii_mode": "encrypt"}, "pii_mode"),
    ("hash mode without key", {"pii_mode": "hash"}, "pii_hash_key"),
    ("short hash key", {"pii_mode": "hash", "pii_hash_key": "short"}, "pii_hash_key"),
    ("empty consent_id", {"consent_id": ""}, "consent_id"),
    ("credentials in base_url", {"base_url": "http://user:SECRETpw@127.0.0.1:8765/api"}, "base_url"),
    ("user name in base_url", {"base_url": "https://SECRETuser@partner.example.uz/api"}, "base_url"),
    ("device_id with a line break", {"device_id": "dev\r\nX-SECRET: 1"}, "device_id"),
    ("device_id not ASCII", {"device_id": "телефон"}, "device_id"),
    ("consent_id with a control character", {"consent_id": "cns\x00SECRET"}, "consent_id"),
    ("requests_per_second tiny", {"requests_per_second": 1e-300}, "requests_per_second"),
    ("request deadline zero", {"request_deadline_seconds": 0}, "request_deadline_seconds"),
    ("max_response_mb zero", {"max_response_mb": 0}, "max_response_mb"),
    ("max_response_mb over 1024", {"max_response_mb": 4096}, "max_response_mb"),
]


def _raw(overrides: dict[str, Any]) -> dict[str, Any]:
    builder = ConfigBuilder()
    for name, value in overrides.items():
        if value is None:
            builder.without(name)
        else:
            builder.with_(**{name: value})
    return builder.raw()


@pytest.mark.parametrize(
    ("overrides", "field"), [(o, f) for _, o, f in INVALID], ids=[i for i, _, _ in INVALID]
)
def test_given_invalid_config_when_parsing_then_config_error_names_the_field(
    overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_raw(overrides), now=NOW)
    assert caught.value.field == field
    assert f"'{field}'" in str(caught.value)
    assert caught.value.failure_type == "config_error"
    assert "SECRET" not in str(caught.value)
    assert "e-300" not in str(caught.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"refresh_token": 12345},
        {"refresh_token": ["rt_SECRET_in_a_list"]},
        {"pii_mode": "hash", "pii_hash_key": "SECRETSHORT"},
        {"refresh_token": REFRESH_TOKEN, "page_size": "rt_SECRET_misplaced"},
    ],
)
def test_given_bad_or_misplaced_secret_when_parsing_then_error_never_repeats_it(
    overrides: dict[str, Any],
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_raw(overrides), now=NOW)
    message = str(caught.value)
    for secret in ("SECRET", "12345", REFRESH_TOKEN):
        assert secret not in message


def test_given_valid_minimal_config_when_parsing_then_typed_defaults_apply() -> None:
    config = ConfigBuilder().build()
    assert config.start_date.isoformat() == "2026-01-01T00:00:00+05:00"
    assert config.start_date.tzinfo is not None
    assert (config.lookback_days, config.settlement_lag_days, config.page_size) == (0, 7, 1000)
    assert (config.max_concurrency, config.timeout_seconds, config.max_retries) == (4, 30.0, 5)
    assert config.requests_per_second is None
    assert config.pii_mode == "keep"
    assert config.card_tokens is None


def test_given_full_config_when_parsing_then_every_field_is_typed() -> None:
    config = (
        ConfigBuilder()
        .with_(
            base_url="https://partner.example.uz/api/v1/trastpay/",
            start_date="2026-01-01T10:00:00Z",
            lookback_days=3,
            settlement_lag_days=5,
            page_size=250,
            requests_per_second=2.5,
            max_concurrency=8,
            timeout_seconds=12,
            max_retries=2,
            card_tokens=["crd_A1", "crd_B2"],
            pii_mode="hash",
            pii_hash_key=HASH_KEY,
            consent_id="cns_1",
            token_store_path="/tmp/tokens.json",
        )
        .build()
    )
    assert config.base_url == "https://partner.example.uz/api/v1/trastpay"
    assert config.start_date.astimezone(TASHKENT).hour == 15
    assert config.card_tokens == ("crd_A1", "crd_B2")
    assert config.requests_per_second == 2.5
    assert config.pii_hash_key == HASH_KEY


def test_given_config_when_repr_then_secrets_are_hidden() -> None:
    config = ConfigBuilder().with_(pii_mode="hash", pii_hash_key=HASH_KEY).build()
    text = repr(config) + str(config)
    assert REFRESH_TOKEN not in text
    assert HASH_KEY not in text
    assert "dev-warehouse-01" in text


def test_given_rotated_token_when_with_refresh_token_then_copy_holds_new_token() -> None:
    config = ConfigBuilder().build()
    rotated = config.with_refresh_token("rt_next")
    assert rotated.refresh_token == "rt_next"
    assert config.refresh_token == REFRESH_TOKEN


def test_given_schema_when_inspected_then_every_property_has_title_description_and_order() -> None:
    jsonschema.Draft7Validator.check_schema(CONFIG_SCHEMA)
    orders = []
    for name, prop in CONFIG_SCHEMA["properties"].items():
        assert prop.get("title"), name
        assert prop.get("description"), name
        orders.append(prop["order"])
    assert sorted(orders) == list(range(len(orders)))
    assert set(CONFIG_SCHEMA["required"]) == {
        "base_url",
        "client_id",
        "device_id",
        "refresh_token",
        "start_date",
    }


def test_given_schema_when_inspected_then_secrets_are_marked_for_both_platforms() -> None:
    assert {"refresh_token", "access_token", "pii_hash_key"} == SECRET_FIELDS
    for name in SECRET_FIELDS:
        assert CONFIG_SCHEMA["properties"][name]["airbyte_secret"] is True
        assert CONFIG_SCHEMA["properties"][name]["secret"] is True


def test_given_not_a_mapping_when_parsing_then_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(["not", "a", "dict"], now=NOW)  # type: ignore[arg-type]
    assert caught.value.field == "config"


def test_given_only_required_fields_when_parsing_then_every_default_is_the_schemas() -> None:
    required = set(CONFIG_SCHEMA["required"])
    raw = {name: value for name, value in ConfigBuilder().raw().items() if name in required}
    parsed = parse_config(raw, now=NOW + timedelta(days=1))
    for name, prop in CONFIG_SCHEMA["properties"].items():
        if "default" in prop:
            assert getattr(parsed, name) == prop["default"], name
            assert TrastpayConfig.__dataclass_fields__[name].default == prop["default"], name


def test_given_access_token_without_expiry_when_parsing_then_config_error_names_token_expiry_date() -> None:
    with pytest.raises(ConfigError) as caught:
        ConfigBuilder().with_(access_token="at_SECRET_1").build()
    assert caught.value.field == "token_expiry_date"
    assert "SECRET" not in caught.value.message


def test_given_access_token_and_expiry_when_parsing_then_both_are_kept_and_left_out_of_repr() -> None:
    parsed = ConfigBuilder().with_(access_token="at_secret", token_expiry_date="2026-12-06T20:30:00Z").build()
    assert parsed.access_token == "at_secret"
    assert parsed.token_expiry_date is not None
    assert parsed.token_expiry_date.isoformat() == "2026-12-06T20:30:00+00:00"
    assert "at_secret" not in repr(parsed)
    assert parsed.with_refresh_token("rt_2").access_token is None
