"""The Airbyte spec, rendered from the core's one config schema.

Both adapters read the same ``trastpay/config_schema.json``; here it becomes Airbyte's
``connectionSpecification``. Settings that only the Singer tap reads are left out of the form, so an
Airbyte user is never asked for them (a config that still carries one stays valid: the schema allows
additional properties).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import trastpay

if TYPE_CHECKING:
    from airbyte_cdk.models import ConnectorSpecification  # type: ignore[attr-defined]  # implicit re-exports

__all__ = [
    "DOCUMENTATION_URL",
    "SINGER_ONLY_FIELDS",
    "connection_specification",
    "connector_specification",
    "specification_document",
]

DOCUMENTATION_URL = "https://github.com/trastpay-connectors/trastpay-connectors/blob/main/docs/airbyte.md"
"""Same URL as ``documentationUrl`` in metadata.yaml (a unit test keeps the two equal)."""

SINGER_ONLY_FIELDS: tuple[str, ...] = ("token_store_path",)
"""Settings of the shared schema that mean nothing to Airbyte: the platform stores rotated tokens."""


@cache
def _rendered() -> dict[str, Any]:
    # The file trastpay.config.CONFIG_SCHEMA is read from, read here without importing the config
    # module (and its jsonschema): `spec` must answer without it (docs/performance.md, start-up).
    schema: dict[str, Any] = json.loads(
        (Path(trastpay.__file__).parent / "config_schema.json").read_text(encoding="utf-8")
    )
    schema["title"] = "Trastpay Source Spec"
    properties: dict[str, Any] = schema.get("properties", {})
    for name in SINGER_ONLY_FIELDS:
        properties.pop(name, None)
    schema["required"] = [name for name in schema.get("required", []) if name in properties]
    return schema


def connection_specification() -> dict[str, Any]:
    """The JSON Schema of the Airbyte config (a fresh copy the caller may change)."""
    return copy.deepcopy(_rendered())


def specification_document() -> dict[str, Any]:
    """The SPEC message payload as the protocol's JSON: documentation link, schema, incremental support."""
    return {
        "documentationUrl": DOCUMENTATION_URL,
        "connectionSpecification": connection_specification(),
        "supportsIncremental": True,
        "supportsNormalization": False,  # the model's defaults, written by the CDK's serializer too
        "supportsDBT": False,
    }


def connector_specification() -> ConnectorSpecification:
    """The SPEC message payload as the CDK's model (the same document as :func:`specification_document`)."""
    from airbyte_cdk.models import ConnectorSpecification  # type: ignore[attr-defined]  # only this model needs the CDK

    return ConnectorSpecification(**specification_document())
