"""``tap-trastpay``: the Singer tap, a thin singer-sdk adapter over the Trastpay core.

Config schema, streams, schemas, keys and cursor rules all come from :mod:`trastpay`; this module
wires them into singer-sdk, owns the one :class:`~trastpay.session.TrastpaySession` of a run (one
connection pool, one request budget for every stream and partition) and the rotating refresh
token's persistence (see :mod:`tap_trastpay.tokens`).
"""

from __future__ import annotations

import copy
import logging
import sys
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import CapabilitiesEnum, PluginCapabilities, TapCapabilities

from tap_trastpay.streams import TrastpayStream, bookmarks_as_core_state
from tap_trastpay.tokens import TapTokens
from tap_trastpay.writer import OrjsonSingerWriter
from trastpay import __version__
from trastpay.config import CONFIG_SCHEMA, TrastpayConfig, parse_config
from trastpay.errors import ConfigError, StateError, TrastpayError
from trastpay.session import TrastpaySession
from trastpay.state import StreamState
from trastpay.streams import STREAMS_BY_NAME

_AIRBYTE_ONLY_KEYS = ("airbyte_secret", "order")


def singer_config_schema(core_schema: Mapping[str, Any]) -> dict[str, Any]:
    """The core config schema as singer-sdk expects it: secrets ``secret`` + ``writeOnly``.

    Airbyte-only UI hints are dropped; everything else (titles, descriptions, defaults, patterns)
    is the core's, so both connectors accept exactly the same settings.
    """
    schema = copy.deepcopy(dict(core_schema))
    schema.pop("$schema", None)
    for prop in schema.get("properties", {}).values():
        if prop.get("airbyte_secret") or prop.get("secret"):
            prop["secret"] = True
            prop["writeOnly"] = True
        for key in _AIRBYTE_ONLY_KEYS:
            prop.pop(key, None)
    return schema


class TapTrastpay(Tap):
    """Singer tap for Trastpay (PJSB Trustbank) partner API data."""

    name = "tap-trastpay"
    package_name = "trastpay-connectors"
    plugin_version = __version__
    config_jsonschema: ClassVar[dict[str, Any]] = singer_config_schema(CONFIG_SCHEMA)
    message_writer_class = OrjsonSingerWriter
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
    ]

    _session: TrastpaySession | None = None

    @property
    def trastpay_config(self) -> TrastpayConfig:
        """The validated core config (raises ``ConfigError`` naming the bad field)."""
        settings = {k: v for k, v in self.config.items() if k in CONFIG_SCHEMA["properties"]}
        return parse_config(settings)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The core's validation first: its message names the setting and never repeats its value.

        singer-sdk's own schema check quotes the offending value, which prints a refresh token
        pasted into the wrong field, or a card number typed into card_tokens.
        """
        settings = {k: v for k, v in self._config.items() if k in CONFIG_SCHEMA["properties"]}
        try:
            parse_config(settings)
        except ConfigError as error:
            line = f"{error.failure_type}: {error.message}"
            if raise_errors:
                raise ConfigValidationError("Config validation failed", errors=[line]) from None
            self.logger.warning("Config validation failed: %s", line)
            return [line]
        return super()._validate_config(raise_errors=raise_errors)

    @property
    def session(self) -> TrastpaySession:
        """The run's one core session, opened on first use (discovery never logs in)."""
        if self._session is None:
            config = self.trastpay_config
            tokens = TapTokens.for_config(config)
            config = tokens.starting_config(config)
            self._session = tokens.open_session(config)
            weakref.finalize(self, self._session.close)
        return self._session

    def discover_streams(self) -> Sequence[TrastpayStream]:
        """Every core stream; the catalog is static, so discovery needs no network."""
        return [TrastpayStream(self, stream_def) for stream_def in STREAMS_BY_NAME.values()]

    def load_state(self, state: dict[str, Any]) -> None:
        """Load Singer state, rejecting malformed bookmarks with the core's clear errors."""
        for name, bookmark in (state or {}).get("bookmarks", {}).items():
            stream_def = STREAMS_BY_NAME.get(name)
            if stream_def is None or not isinstance(bookmark, Mapping):
                continue
            try:
                core_state = bookmarks_as_core_state(stream_def, bookmark)
            except TypeError as exc:
                raise StateError(f"State of stream '{name}': {exc}") from None
            StreamState.parse(stream_def, core_state)
        super().load_state(state)

    @classmethod
    def invoke(
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Run the CLI; a core error ends the run with one clear line and exit code 1."""
        try:
            super().invoke(about=about, about_format=about_format, **kwargs)
        except TrastpayError as error:
            logging.getLogger(cls.name).error("%s: %s", error.failure_type, error.message)
            sys.exit(1)


__all__ = ["TapTrastpay", "singer_config_schema"]
