"""meltano.yml and the Hub-style definition stay in step with the core config and the tap."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from tap_trastpay.tap import TapTrastpay
from trastpay.config import CONFIG_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {name for name, prop in CONFIG_SCHEMA["properties"].items() if prop.get("secret")}
KINDS = {"boolean": "boolean", "integer": "integer", "object": "object", "string": "string"}


def _sdk_settings() -> dict[str, dict[str, Any]]:
    """singer-sdk's standard settings the tap declares (flattening, stream maps, activate version...)."""
    schema = copy.deepcopy(TapTrastpay.config_jsonschema)
    TapTrastpay.append_builtin_config(schema)
    return {k: v for k, v in schema["properties"].items() if k not in CONFIG_SCHEMA["properties"]}


def _load(relative: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / relative).read_text(encoding="utf-8"))
    return data


def _meltano_extractor() -> dict[str, Any]:
    project = _load("meltano.yml")
    (extractor,) = project["plugins"]["extractors"]
    return extractor  # type: ignore[no-any-return]


@pytest.mark.parametrize("definition", [_meltano_extractor(), _load("meltano-hub/tap-trastpay.yml")])
def test_given_a_plugin_definition_then_settings_mirror_the_core_config(definition: dict[str, Any]) -> None:
    settings = {s["name"]: s for s in definition["settings"]}
    assert list(settings) == [*CONFIG_SCHEMA["properties"], *_sdk_settings()]
    for name, setting in settings.items():
        if name not in CONFIG_SCHEMA["properties"]:
            continue
        if name in SECRETS:
            assert setting["kind"] == "password"
            assert setting["sensitive"] is True
        else:
            assert not setting.get("sensitive")
        assert setting["description"] == CONFIG_SCHEMA["properties"][name]["description"]
    assert definition["namespace"] == "tap_trastpay"
    assert definition["executable"] == "tap-trastpay"
    assert set(definition["capabilities"]) == {str(c.value) for c in TapTrastpay.capabilities}


@pytest.mark.parametrize("definition", [_meltano_extractor(), _load("meltano-hub/tap-trastpay.yml")])
def test_given_a_plugin_definition_then_sdk_settings_have_the_kind_of_their_json_type(
    definition: dict[str, Any],
) -> None:
    settings = {s["name"]: s for s in definition["settings"]}
    sdk = _sdk_settings()
    assert {"flattening_enabled", "flattening_max_depth", "stream_maps", "stream_map_config"} <= set(sdk)
    assert "emit_activate_version_messages" in sdk
    assert "batch_config" not in sdk
    for name, prop in sdk.items():
        (json_type,) = [t for t in prop["type"] if t != "null"]
        assert settings[name]["kind"] == KINDS[json_type], name


def test_given_the_plugin_definitions_then_they_install_the_singer_runtime_from_the_built_wheel() -> None:
    from trastpay import __version__

    assert _load("meltano-hub/tap-trastpay.yml")["pip_url"] == "trastpay-connectors[singer]"
    pip_url = _meltano_extractor()["pip_url"].split()
    assert pip_url[0] == f"trastpay-connectors[singer]=={__version__}"
    assert "--find-links=dist" in pip_url
    assert "--constraint=dist/constraints-singer.txt" in pip_url


def test_given_meltano_yml_then_it_works_offline() -> None:
    project = _load("meltano.yml")
    plugins = [p for kind in project["plugins"].values() for p in kind]
    names = {p["name"] for p in plugins}
    assert names == {"tap-trastpay", "target-duckdb", "target-jsonl", "target-postgres"}
    for plugin in plugins:
        assert "variant" not in plugin, f"{plugin['name']}: a variant makes Meltano ask its online Hub"
        assert plugin["namespace"]
        assert plugin["pip_url"]
    assert project["send_anonymous_usage_stats"] is False
    assert project["env"]["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] == "false"
    assert _meltano_extractor()["select"] == ["*.*"]


def test_given_meltano_yml_then_no_secret_value_is_committed() -> None:
    extractor = _meltano_extractor()
    assert not SECRETS & set(extractor.get("config", {}))
