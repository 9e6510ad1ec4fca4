"""meltano.yml and the Hub-style definition stay in step with the core config and the tap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tap_trastpay.tap import TapTrastpay
from trastpay.config import CONFIG_SCHEMA

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {name for name, prop in CONFIG_SCHEMA["properties"].items() if prop.get("secret")}


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
    assert list(settings) == list(CONFIG_SCHEMA["properties"])
    for name, setting in settings.items():
        if name in SECRETS:
            assert setting["kind"] == "password"
            assert setting["sensitive"] is True
        else:
            assert not setting.get("sensitive")
        assert setting["description"] == CONFIG_SCHEMA["properties"][name]["description"]
    assert definition["namespace"] == "tap_trastpay"
    assert definition["executable"] == "tap-trastpay"
    assert set(definition["capabilities"]) == {str(c.value) for c in TapTrastpay.capabilities}


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
    assert _meltano_extractor()["pip_url"] == "-e ."
    assert _meltano_extractor()["select"] == ["*.*"]


def test_given_meltano_yml_then_no_secret_value_is_committed() -> None:
    extractor = _meltano_extractor()
    assert not SECRETS & set(extractor.get("config", {}))
