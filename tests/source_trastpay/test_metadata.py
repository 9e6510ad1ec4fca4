"""metadata.yaml satisfies Airbyte's registry model and agrees with the Dockerfile."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from airbyte_cdk.models.connector_metadata import ConnectorLanguage, MetadataFile
from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import (
    ConnectorMetadataDefinitionV0,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def metadata() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "metadata.yaml").read_text(encoding="utf-8"))
    return loaded


def test_given_metadata_yaml_when_validated_then_matches_connector_metadata_definition_v0(
    metadata: dict[str, Any],
) -> None:
    model = ConnectorMetadataDefinitionV0.model_validate(metadata)

    data = model.data
    assert data.connector_type.value == "source"
    assert data.connector_subtype.value == "api"
    assert data.docker_repository == "airbyte/source-trastpay"
    assert data.docker_image_tag == "0.1.0"
    assert data.release_stage.value == "alpha"
    assert data.support_level is not None
    assert data.support_level.value == "community"
    assert data.license == "MIT"
    assert data.tags is not None
    assert {"language:python", "cdk:python"} <= set(data.tags)
    assert data.registry_overrides is not None


def test_given_metadata_yaml_when_read_by_cdk_then_python_connector(metadata: dict[str, Any]) -> None:
    parsed = MetadataFile.from_file(ROOT / "metadata.yaml")

    assert parsed.data.language == ConnectorLanguage.PYTHON


def test_given_base_image_when_compared_then_dockerfile_builds_from_it_with_source_entrypoint(
    metadata: dict[str, Any],
) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    base_image = metadata["data"]["connectorBuildOptions"]["baseImage"]

    assert re.match(
        r"^docker\.io/airbyte/python-connector-base:\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$", base_image
    )
    assert f"FROM {base_image}" in dockerfile
    assert 'ENTRYPOINT ["source-trastpay"]' in dockerfile
    assert f"io.airbyte.version={metadata['data']['dockerImageTag']}" in dockerfile
