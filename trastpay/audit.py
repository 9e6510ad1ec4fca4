"""One structured audit line per API call, on logger ``trastpay.audit``.

A line says who asked what and when (method, path, parameter names, status, duration, attempt,
consent id) and carries a request hash that identifies the exact request for support tickets
without revealing it. Parameter values and bodies are never written: they may hold card tokens,
phone numbers or secrets. Secret body fields do not even enter the hash.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

import orjson

from trastpay.masking import scrub_pans

LOGGER_NAME = "trastpay.audit"
SECRET_KEYS = frozenset({"refresh_token", "access_token", "otp", "password", "secret", "pii_hash_key"})

logger = logging.getLogger(LOGGER_NAME)


def _redacted(values: Mapping[str, Any] | None) -> dict[str, Any]:
    if not values:
        return {}
    return {key: ("<secret>" if key in SECRET_KEYS else value) for key, value in values.items()}


def request_hash(
    method: str, path: str, params: Mapping[str, Any] | None, body: Mapping[str, Any] | None
) -> str:
    """First 16 hex digits of sha256 over method, path and the sorted params/body (secrets blanked)."""
    payload = orjson.dumps(
        [method.upper(), path, _redacted(params), _redacted(body)],
        option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS,
        default=str,
    )
    return hashlib.sha256(payload).hexdigest()[:16]


def audit_call(
    *,
    method: str,
    path: str,
    params: Mapping[str, Any] | None = None,
    body: Mapping[str, Any] | None = None,
    status: int | None,
    duration_ms: float,
    attempt: int,
    consent_id: str | None,
    outcome: str = "ok",
    request_id: str | None = None,
) -> None:
    """Write the audit line; cheap when the logger is disabled."""
    if not logger.isEnabledFor(logging.INFO):
        return
    line = {
        "event": "api_call",
        "method": method.upper(),
        "path": scrub_pans(path),
        "param_names": sorted(params) if params else [],
        "body_keys": sorted(body) if body else [],
        "status": status,
        "outcome": outcome,
        "duration_ms": round(duration_ms, 1),
        "request_hash": request_hash(method, path, params, body),
        "consent_id": consent_id,
        "attempt": attempt,
        "request_id": request_id,
    }
    logger.info(orjson.dumps(line).decode("utf-8"), extra={"trastpay_audit": line})
