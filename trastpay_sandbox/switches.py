"""The fault switch registry: every switch of ``--faults`` / ``POST /_sandbox/faults``, declared once.

A switch's JSON Schema is the contract's own, ``components.schemas.FaultConfig.properties.<name>``
in ``openapi.yaml``: the sandbox validates a configuration against it (JSON Schema 2020-12, the
dialect of OpenAPI 3.1), so the documented contract and the checks cannot drift apart. This module
adds what a schema does not say: which ASGI layer applies the switch, what its counter (in
``GET /_sandbox/faults``, same name as the switch) counts, and the normalised value the layers
read (defaults filled in, numbers as the layers use them).

Layers: ``transport`` switches are applied by :class:`~trastpay_sandbox.middleware.FaultMiddleware`
(:class:`~trastpay_sandbox.faults.Faults` decides), ``hostile`` ones by
:class:`~trastpay_sandbox.hostile_middleware.HostileMiddleware`, ``session`` ones by
:class:`~trastpay_sandbox.session_faults.SessionFaultMiddleware`.

A bad configuration raises :class:`FaultConfigError`, whose ``field`` is the dotted path of the
offending key (``faults.error_rate.ratio``, ``faults.plant_pan.in[0]``); the hooks answer it as a
400 problem naming that field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from jsonschema import Draft202012Validator, ValidationError  # type: ignore[import-untyped]
from jsonschema.validators import extend  # type: ignore[import-untyped]

from trastpay_sandbox.hostile import DEFAULT_TEXT_FIELDS
from trastpay_sandbox.spec import load_raw_spec

Layer = Literal["transport", "hostile", "session"]


class FaultConfigError(ValueError):
    """A fault configuration is invalid; ``field`` names the offending key (dotted path)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True, slots=True)
class Switch:
    """One fault switch: the layer that applies it, what its counter counts, how it is normalised."""

    name: str
    layer: Layer
    counts: str
    normalise: Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _selector(value: Mapping[str, Any], *extra: str) -> dict[str, Any]:
    """A ``ratio | every_n | next_n`` selector as the layers read it (ratio and seconds as floats)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in ("ratio", "delay_s"):
            out[key] = float(item)
        elif key in ("every_n", "next_n", *extra):
            out[key] = item
    return out


def _rate_limit_storm(value: Mapping[str, Any]) -> dict[str, Any]:
    return {"duration_s": float(value["duration_s"]), "retry_after_s": value.get("retry_after_s", 1)}


def _error_rate(value: Mapping[str, Any]) -> dict[str, Any]:
    duration = value.get("duration_s")
    return {
        "ratio": float(value["ratio"]),
        "duration_s": None if duration is None else float(duration),
        "status": value.get("status", 503),
    }


def _corrupt_page(value: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": value["kind"], **_selector(value)}
    if "stream" in value:
        out["stream"] = value["stream"]
    return out


def _schema_drift(value: Mapping[str, Any]) -> dict[str, Any]:
    return {"stream": value["stream"], **{k: v for k, v in value.items() if k != "stream"}}


def _hostile_strings(value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "streams": list(value["streams"]) if "streams" in value else None,
        "fields": list(value.get("fields", DEFAULT_TEXT_FIELDS)),
        "pad_kb": value.get("pad_kb", 0),
    }


def _plant_pan(value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "in": sorted(set(value["in"])),
        "error_every_n": value.get("error_every_n", 2),
        "error_status": value.get("error_status", 503),
    }


def _revoke(value: Mapping[str, Any]) -> dict[str, Any]:
    return {"after_pages": value["after_pages"], "reject_refreshed": value.get("reject_refreshed", False)}


def _coarse_cursors(value: Mapping[str, Any]) -> dict[str, Any]:
    seconds = value["seconds"]
    if 86400 % seconds:
        raise FaultConfigError("faults.coarse_cursors.seconds", "must divide a day (86400) evenly")
    return {"seconds": seconds}


_REGISTRY: tuple[Switch, ...] = (
    Switch("latency_ms", "transport", "data requests delayed", _same),
    Switch("rate_limit_storm", "transport", "429s served in the storm window", _rate_limit_storm),
    Switch("error_rate", "transport", "injected 5xx answers", _error_rate),
    Switch("connection_reset", "transport", "connections cut mid-answer", _selector),
    Switch("slow_response", "transport", "answers delayed by delay_s", _selector),
    Switch("malformed_page", "transport", "200 pages cut in half", _selector),
    Switch("expire_token_after_pages", "transport", "access tokens expired", _same),
    Switch("per_token_rps", "transport", "429s over a token's rate", float),
    Switch("corrupt_page", "hostile", "corrupted 200 pages", _corrupt_page),
    Switch("schema_drift", "hostile", "data pages with drifted items", _schema_drift),
    Switch("hostile_strings", "hostile", "data pages with hostile text", _hostile_strings),
    Switch("plant_pan", "hostile", "answers carrying planted card numbers", _plant_pan),
    Switch("huge_page", "hostile", "pages served with the forced size", dict),
    Switch("record_secrets", "hostile", "(nothing; GET /_sandbox/issued-secrets)", _same),
    Switch("journal", "session", "(nothing; GET /_sandbox/requests)", _same),
    Switch("revoke_access_after_pages", "session", "requests refused with a revoked token", _revoke),
    Switch("lose_refresh_answer", "session", "refresh answers lost after rotation", dict),
    Switch("late_visible", "session", "records hidden until later", dict),
    Switch("coarse_cursors", "session", "(nothing; data and truth are rounded)", _coarse_cursors),
)
SWITCHES: Mapping[str, Switch] = {switch.name: switch for switch in _REGISTRY}
"""Every fault switch by name, in the order the layers and the docs list them."""
FAULT_KEYS: tuple[str, ...] = tuple(SWITCHES)


def keys_of(layer: Layer) -> tuple[str, ...]:
    """The names of the switches one layer applies."""
    return tuple(switch.name for switch in _REGISTRY if switch.layer == layer)


HOSTILE_KEYS = keys_of("hostile")
SESSION_KEYS = keys_of("session")


# --- validation against the contract's FaultConfig schema -----------------------------------


def _is_integer(_checker: object, value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(_checker: object, value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


_Validator = extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"integer": _is_integer, "number": _is_number}
    ),
)


@cache
def fault_schemas() -> dict[str, Any]:
    """``components.schemas`` of ``openapi.yaml`` (FaultConfig and the schemas it references)."""
    schemas: dict[str, Any] = load_raw_spec()["components"]["schemas"]
    declared = set(schemas["FaultConfig"]["properties"])
    if declared != set(SWITCHES):
        raise RuntimeError(
            "openapi.yaml FaultConfig and trastpay_sandbox.switches disagree: "
            f"only in the spec {sorted(declared - set(SWITCHES))}, "
            f"only in the registry {sorted(set(SWITCHES) - declared)}"
        )
    return schemas


@cache
def _validator() -> Any:
    root = {"$ref": "#/components/schemas/FaultConfig", "components": {"schemas": fault_schemas()}}
    return _Validator(root)


_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "object": "an object",
    "boolean": "a boolean",
    "string": "a string",
    "array": "a list",
    "null": "null",
}
_RANK = {
    "type": 0,
    "additionalProperties": 1,
    "unevaluatedProperties": 1,
    "required": 2,
    "oneOf": 4,
    "anyOf": 4,
}


def _path(parts: Iterable[str | int]) -> str:
    text = "faults"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _declared_properties(schema: Mapping[str, Any]) -> set[str]:
    names = set(schema.get("properties", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str):
        names |= _declared_properties(fault_schemas()[ref.rsplit("/", 1)[1]])
    return names


def _branch_keys(branches: Iterable[Mapping[str, Any]]) -> list[str]:
    return [key for branch in branches for key in branch.get("required", ())]


def _as_config_error(error: ValidationError) -> FaultConfigError:
    """The first schema violation as a :class:`FaultConfigError` in the sandbox's own words."""
    path = list(error.absolute_path)
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "type":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        return FaultConfigError(_path(path), "must be " + " or ".join(_TYPE_NAMES.get(t, t) for t in wanted))
    if keyword in ("additionalProperties", "unevaluatedProperties"):
        allowed = _declared_properties(error.schema)
        unknown = sorted(set(value) - allowed)[0]
        return FaultConfigError(
            _path([*path, unknown]), f"unknown key; allowed: {', '.join(sorted(allowed))}"
        )
    if keyword == "required":
        missing = next(key for key in expected if key not in value)
        return FaultConfigError(_path([*path, missing]), "is required")
    if keyword == "oneOf":
        first, second = _branch_keys(expected)
        return FaultConfigError(_path(path), f"give exactly one of '{first}' or '{second}'")
    if keyword == "anyOf":
        return FaultConfigError(_path(path), f"give at least one of {', '.join(_branch_keys(expected))}")
    if keyword == "enum":
        if expected == [True]:
            return FaultConfigError(_path(path), "must be true (leave the switch out to turn it off)")
        return FaultConfigError(_path(path), f"must be one of {', '.join(str(v) for v in expected)}")
    bounds = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
    if keyword in bounds:
        return FaultConfigError(_path(path), f"must be {bounds[keyword]} {expected}, got {value}")
    if keyword == "minItems":
        return FaultConfigError(_path(path), "must be a non-empty list")
    if keyword in ("minLength", "maxLength"):
        schema = error.schema
        return FaultConfigError(
            _path(path),
            f"must be {schema.get('minLength', 0)}..{schema.get('maxLength', '')} characters long",
        )
    return FaultConfigError(_path(path), error.message)


def validate_faults(raw: object) -> dict[str, Any]:
    """Check a fault configuration against the contract and return it normalised for the layers.

    ``None`` means no switches. The first violation (type and unknown keys before missing keys,
    before values, before "exactly one of") is raised as :class:`FaultConfigError`.
    """
    if raw is None:
        return {}
    errors = sorted(_validator().iter_errors(raw), key=lambda e: _RANK.get(str(e.validator), 3))
    if errors:
        raise _as_config_error(errors[0])
    assert isinstance(raw, dict)
    return {key: SWITCHES[key].normalise(value) for key, value in raw.items()}


__all__ = [
    "FAULT_KEYS",
    "HOSTILE_KEYS",
    "SESSION_KEYS",
    "SWITCHES",
    "FaultConfigError",
    "Switch",
    "fault_schemas",
    "keys_of",
    "validate_faults",
]
