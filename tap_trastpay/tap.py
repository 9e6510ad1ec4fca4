"""``tap-trastpay``: the Singer tap, a thin singer-sdk adapter over the Trastpay core.

Config schema, streams, schemas, keys and cursor rules all come from :mod:`trastpay`; this module
wires them into singer-sdk, owns the one :class:`~trastpay.session.TrastpaySession` of a run (one
connection pool, one request budget for every stream and partition) and the rotating refresh
token's persistence (see :mod:`tap_trastpay.tokens`).

The console entry point (:mod:`tap_trastpay.console`) runs this class for every invocation except
a plain sync, which :mod:`tap_trastpay.native` answers without singer-sdk from the same rules
(:mod:`tap_trastpay.rules`); ``TRASTPAY_FAST_PATH=0`` sends every invocation here.
"""

from __future__ import annotations

import copy
import logging
import sys
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import click
from singer_sdk import Stream
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import (
    EMIT_ACTIVATE_VERSION_CONFIG,
    CapabilitiesEnum,
    PluginCapabilities,
    TapCapabilities,
)

from tap_trastpay import rules
from tap_trastpay.compat import CompatTap
from tap_trastpay.streams import TrastpayStream
from tap_trastpay.writer import OrjsonSingerWriter
from trastpay import __version__
from trastpay.config import CONFIG_SCHEMA, TrastpayConfig
from trastpay.errors import TrastpayError
from trastpay.session import TrastpaySession
from trastpay.streams import EMITTED_STREAMS

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


def with_activate_version_setting(schema: dict[str, Any]) -> dict[str, Any]:
    """Add singer-sdk's standard ``emit_activate_version_messages`` setting (default false).

    singer-sdk reads the setting but only declares it for taps that list it themselves; declared,
    it is validated as a boolean, documented by ``--about`` and typed by Meltano.
    """
    schema["properties"].update(EMIT_ACTIVATE_VERSION_CONFIG["properties"])
    return schema


class TapTrastpay(CompatTap):
    """Singer tap for Trastpay (PJSB Trustbank) partner API data."""

    name = "tap-trastpay"
    package_name = "trastpay-connectors"
    plugin_version = __version__
    config_jsonschema: ClassVar[dict[str, Any]] = with_activate_version_setting(
        singer_config_schema(CONFIG_SCHEMA)
    )
    message_writer_class = OrjsonSingerWriter
    capabilities: ClassVar[list[CapabilitiesEnum]] = [
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        TapCapabilities.ACTIVATE_VERSION,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]
    """What the tap implements; not BATCH (docs/singer.md: a BATCH file would be announced after the
    STATE that covers its records)."""

    _session: TrastpaySession | None = None

    @property
    def trastpay_config(self) -> TrastpayConfig:
        """The validated core config (raises ``ConfigError`` naming the bad field)."""
        return rules.trastpay_config(self.config)

    def validate_settings(self, config: Mapping[str, Any], *, raise_errors: bool) -> list[str] | None:
        """The core's validation first (:func:`tap_trastpay.rules.config_problem`).

        singer-sdk's own schema check quotes the offending value, which prints a refresh token
        pasted into the wrong field, or a card number typed into card_tokens.
        """
        line = rules.config_problem(config)
        if line is None:
            return None
        if raise_errors:
            raise ConfigValidationError("Config validation failed", errors=[line]) from None
        self.logger.warning("Config validation failed: %s", line)
        return [line]

    @property
    def session(self) -> TrastpaySession:
        """The run's one core session, opened on first use (discovery never logs in)."""
        if self._session is None:
            self._session = rules.open_session(self.trastpay_config)
            weakref.finalize(self, self._session.close)
        return self._session

    def discover_streams(self) -> Sequence[TrastpayStream]:
        """Every core stream; the catalog is static, so discovery needs no network."""
        return [TrastpayStream(self, stream_def) for stream_def in EMITTED_STREAMS]

    @property
    def streams(self) -> dict[str, Stream]:
        """The SDK's streams (ordered by name), with sync_audit moved last: it reports on the others."""
        found = super().streams
        order = rules.sync_order(found)
        if list(found) != order:
            for name in order:
                found[name] = found.pop(name)
        return found

    def load_state(self, state: dict[str, Any]) -> None:
        """Load Singer state, rejecting malformed bookmarks with the core's clear errors."""
        rules.validate_incoming_state(state)
        super().load_state(state)
        self._incoming_state: dict[str, Any] = copy.deepcopy(dict(state or {}))
        if self.config.get("backfill"):
            # a backfill: every STATE message is the incoming state, whatever the SDK does to its copy
            self.freeze_state_messages(self._incoming_state)

    def state_to_emit(self) -> dict[str, Any]:
        """What a STATE message carries now: the tap's state, or in a backfill the incoming one."""
        if self.config.get("backfill"):
            return copy.deepcopy(self._incoming_state)
        return copy.deepcopy(dict(self.state))

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        """Each ``--config`` file must hold a JSON object: anything else is one named error, exit 1.

        singer-sdk merges the files with ``dict |=``, so a JSON list or a broken file would end in
        a Python traceback instead.
        """
        for path in value:
            problem = None if path == "ENV" else rules.config_file_problem(path)
            if problem is not None:
                click.echo(problem, err=True)
                sys.exit(1)
        return super().cb_config(ctx, param, value)

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
            logging.getLogger(cls.name).error("%s: %s", *rules.error_line(error))
            sys.exit(1)


__all__ = ["TapTrastpay", "singer_config_schema"]
