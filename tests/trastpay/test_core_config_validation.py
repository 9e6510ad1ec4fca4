"""The config's schema verdict: jsonschema-rs answers first, jsonschema's verdict is the one kept.

:func:`trastpay.config.schema_allows` must say exactly what jsonschema's ``Draft7Validator`` says,
for any value: jsonschema-rs may only ever be stricter (then jsonschema decides), never more lenient.
"""

from __future__ import annotations

import sys
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from source_trastpay.spec import connection_specification
from trastpay import config as config_module
from trastpay.config import CONFIG_SCHEMA, _fast_allows, parse_config, schema_allows
from trastpay.errors import ConfigError

VALID: dict[str, Any] = {
    "base_url": "http://127.0.0.1:8765/api/v1/trastpay",
    "client_id": "trastpay-connectors",
    "device_id": "dev-1",
    "refresh_token": "rt-1",
    "start_date": "2026-01-01",
}
NEAR_MISSES = st.sampled_from(
    [
        "2026-01-01\n",  # Python's `$` matches before a final newline, Rust's does not
        "2026-01-01T00:00:00+05:00",
        "2026-13-01",
        "crd_7Hq2LmX9",
        "crd_7Hq2LmX9\n",
        "http://x/api\n",
        "https://h/p?q=1",
        "",
        " ",
        "hash",
        "mask",
    ]
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | NEAR_MISSES,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6) | NEAR_MISSES, inner, max_size=3)
    ),
    max_leaves=6,
)
CONFIGS = st.builds(
    lambda changes, dropped: {k: v for k, v in {**VALID, **changes}.items() if k not in dropped},
    st.dictionaries(st.sampled_from(sorted(CONFIG_SCHEMA["properties"])), JSON, max_size=4),
    st.sets(st.sampled_from(sorted(VALID)), max_size=1),
)


@settings(max_examples=400, deadline=None)
@given(CONFIGS)
def test_given_any_config_when_judged_then_the_verdict_is_jsonschemas(config: dict[str, Any]) -> None:
    for schema in (CONFIG_SCHEMA, connection_specification()):
        expected = jsonschema.Draft7Validator(schema).is_valid(config)
        if _fast_allows(schema, config):
            assert expected  # jsonschema-rs is never more lenient
        assert schema_allows(schema, config) == expected


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"page_size": 0}, "page_size"),
        ({"start_date": "2026-13-01x"}, "start_date"),
        ({"pii_mode": "x"}, "pii_mode"),
    ],
)
def test_given_an_invalid_config_when_parsed_then_jsonschemas_first_error_names_the_field(
    changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({**VALID, **changes})
    assert raised.value.field == field


def test_given_a_value_only_python_accepts_when_parsed_then_it_is_accepted_as_before() -> None:
    config = {**VALID, "card_tokens": ["crd_7Hq2LmX9\n"]}
    assert not _fast_allows(CONFIG_SCHEMA, config)
    assert schema_allows(CONFIG_SCHEMA, config)


def test_given_no_jsonschema_rs_installed_when_judging_then_jsonschema_alone_gives_the_same_verdicts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "jsonschema_rs", None)  # as in the [singer] and [cli] runtimes
    monkeypatch.setattr(config_module, "_FAST", {})
    assert not _fast_allows(CONFIG_SCHEMA, VALID)
    assert schema_allows(CONFIG_SCHEMA, VALID)
    assert parse_config(VALID).device_id == "dev-1"
    with pytest.raises(ConfigError) as raised:
        parse_config({**VALID, "page_size": 0})
    assert raised.value.field == "page_size"
