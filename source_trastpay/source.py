"""The Airbyte source: spec, check, discover and read over the Trastpay core.

Everything that is not Airbyte-specific (config rules, auth, HTTP, cursors, lookback, state shape,
masking) lives in :mod:`trastpay`; this class maps it onto the CDK. The Airbyte-specific part is
token rotation: refresh tokens are single use, so every rotation is handed to the platform at once
as a CONNECTOR_CONFIG control message (written straight to stdout, before the new token is used, so
it survives even if the process dies a moment later) holding the new ``refresh_token``,
``access_token`` and ``token_expiry_date``, and the platform stores the updated config for the next
run. ``check`` never rotates: Airbyte drops what a check publishes while a source is being created
(there is no source id to store it under yet), so a rotating check would leave the first sync a
spent token. It proves the credentials with the config's access token while that is valid, and
otherwise introspects the refresh token without spending it (docs/auth-flow.md).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from airbyte_cdk.config_observation import emit_configuration_as_airbyte_control_message
from airbyte_cdk.models import (  # type: ignore[attr-defined]  # implicit re-exports
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    ConfiguredAirbyteCatalog,
    ConnectorSpecification,
    Status,
)
from airbyte_cdk.sources import AbstractSource
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.utils.airbyte_secrets_utils import add_to_secrets, filter_secrets

from source_trastpay.errors import to_traced_exception, user_message
from source_trastpay.live_config import LiveConfig
from source_trastpay.spec import connector_specification
from source_trastpay.streams import TrastpayStream
from trastpay.audit import LOGGER_NAME as AUDIT_LOGGER_NAME
from trastpay.config import TrastpayConfig, parse_config
from trastpay.errors import AuthError, ConfigError, TrastpayError
from trastpay.session import TrastpaySession
from trastpay.streams import EMITTED_STREAMS, SYNC_AUDIT

__all__ = ["SourceTrastpay"]


class SourceTrastpay(AbstractSource):
    """Airbyte source for the Trastpay partner API (see docs/airbyte.md)."""

    def __init__(self) -> None:
        audit = logging.getLogger(AUDIT_LOGGER_NAME)
        if audit.level == logging.NOTSET:
            # The CDK leaves the root logger at WARNING; the audit trail (one line per API call, no
            # secrets) belongs in the sync log, which is where Airbyte users look for it.
            audit.setLevel(logging.INFO)
        self._live = LiveConfig(self.publish_config, add_to_secrets)
        self._session: TrastpaySession | None = None
        self._session_lock = threading.Lock()
        self._credentials_refused = False

    # spec / check / discover

    @staticmethod
    def read_config(config_path: str) -> MutableMapping[str, Any]:
        """The ``--config`` file as a JSON object, or one config error naming it (never a traceback)."""
        try:
            with open(config_path, encoding="utf-8") as handle:
                document = json.load(handle)
        except (OSError, ValueError) as exc:
            why = "cannot be read" if isinstance(exc, OSError) else "is not valid JSON"
            raise to_traced_exception(ConfigError("config", f"the --config file {why}")) from None
        if not isinstance(document, dict):
            kind = type(document).__name__
            raise to_traced_exception(
                ConfigError("config", f"the --config file must hold a JSON object, not a {kind}")
            ) from None
        return document

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return connector_specification()

    def check(self, logger: logging.Logger, config: Mapping[str, Any]) -> AirbyteConnectionStatus:
        """Prove the credentials without spending the refresh token (see the module docstring).

        With a valid ``access_token`` the card list is read (``card_tokens`` checked too); without
        one the refresh token is introspected, and ``card_tokens`` is checked by the next read.

        Every failure the core can name (invalid setting, refused credentials, wrong device,
        unreachable host, revoked login) is reported as FAILED with its message, never as a crash;
        the message also goes through the CDK's secret filter, like every trace and log line.
        """
        try:
            session = self._open_session(config)
            try:
                session.check_without_rotation()
            finally:
                session.close()
        except TrastpayError as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=filter_secrets(user_message(error)))
        return AirbyteConnectionStatus(status=Status.SUCCEEDED)

    def check_connection(self, logger: logging.Logger, config: Mapping[str, Any]) -> tuple[bool, Any]:
        status = self.check(logger, config)
        return status.status == Status.SUCCEEDED, status.message

    def streams(self, config: Mapping[str, Any]) -> list[Stream]:
        """One stream per core definition; building them needs no network (discover stays offline)."""
        return [
            TrastpayStream(definition, self._shared_session, self._note_error)
            for definition in EMITTED_STREAMS
        ]

    @property
    def stop_sync_on_stream_failure(self) -> bool:
        """Stop after a stream fails on refused credentials: every later stream would fail the same way."""
        return self._credentials_refused

    def _note_error(self, error: TrastpayError) -> None:
        if isinstance(error, AuthError):
            self._credentials_refused = True

    # read

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        """Read the catalog's streams through one session (one token manager, one request budget)."""
        self._credentials_refused = False
        try:
            parse_config(self._live.adopt(config))
            # Log in and list the cards once before any stream: a refused login, a wrong device or
            # an unlinked card in card_tokens is one clear config error, not one failure per stream.
            self._shared_session().check()
        except TrastpayError as error:
            self._close_shared_session()
            raise to_traced_exception(error) from error
        # sync_audit reports on the streams read before it: it goes last whatever the catalog's order
        last = [entry for entry in catalog.streams if entry.stream.name == SYNC_AUDIT.name]
        catalog.streams = [entry for entry in catalog.streams if entry.stream.name != SYNC_AUDIT.name] + last
        try:
            yield from super().read(logger, config, catalog, state)
        finally:
            self._close_shared_session()

    def _shared_session(self) -> TrastpaySession:
        with self._session_lock:
            if self._session is None:
                self._session = self._open_session(self._live.current)
            return self._session

    def _close_shared_session(self) -> None:
        with self._session_lock:
            session, self._session = self._session, None
        if session is not None:
            session.close()

    # token rotation

    def _open_session(self, config: Mapping[str, Any]) -> TrastpaySession:
        """A session on ``config`` with the newest tokens; rotations go through :class:`LiveConfig`."""
        typed: TrastpayConfig = parse_config(self._live.adopt(config))
        return TrastpaySession(typed, on_rotate=self._live.on_rotate)

    def publish_config(self, config: MutableMapping[str, Any]) -> None:
        """Hand an updated config to the platform as a CONNECTOR_CONFIG control message."""
        emit_configuration_as_airbyte_control_message(config)
