"""metadata.yaml satisfies Airbyte's registry model and agrees with the Dockerfile."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from airbyte_cdk.models.connector_metadata import ConnectorLanguage, MetadataFile
from airbyte_connector_models.metadata.v0.connector_metadata_definition_v0 import (
    ConnectorMetadataDefinitionV0,
)

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


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
    assert data.docker_repository == "trastpay-connectors/source-trastpay"
    assert data.docker_image_tag == PROJECT["version"]
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


def test_given_documentation_urls_then_they_point_at_files_of_this_repository(
    metadata: dict[str, Any],
) -> None:
    repository = PROJECT["urls"]["Repository"]
    data = metadata["data"]
    urls = [data["documentationUrl"]] + [
        change["migrationDocumentationUrl"] for change in data["releases"]["breakingChanges"].values()
    ]
    for url in urls:
        assert url.startswith(f"{repository}/blob/main/"), url
        path, _, anchor = url.removeprefix(f"{repository}/blob/main/").partition("#")
        document = ROOT / path
        assert document.is_file(), url
        if anchor:
            headings = re.findall(r"^#+ (.+)$", document.read_text(encoding="utf-8"), flags=re.MULTILINE)
            slugs = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in slugs, url


def test_given_releases_then_the_first_state_format_is_recorded_as_not_breaking(
    metadata: dict[str, Any],
) -> None:
    model = ConnectorMetadataDefinitionV0.model_validate(metadata)
    assert model.data.releases is not None
    changes = model.data.releases.breaking_changes
    assert changes is not None
    assert changes["0.1.0"].is_breaking is False
    assert "state format 1" in changes["0.1.0"].message


def test_given_the_dockerfile_then_it_installs_the_built_wheel_with_the_airbyte_extra_pinned() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")

    assert (
        "COPY dist/trastpay_connectors-*-py3-none-any.whl dist/constraints-airbyte.txt /tmp/dist/"
        in dockerfile
    )
    assert '--constraint /tmp/dist/constraints-airbyte.txt "${wheel}[airbyte]"' in dockerfile
    assert "pip install --no-cache-dir ." not in dockerfile
    assert "LABEL io.airbyte.name=trastpay-connectors/source-trastpay" in dockerfile
