"""``spec``, ``check`` and ``discover`` answered without importing airbyte-cdk.

Every Airbyte sync starts a process for ``check`` (and the UI for ``spec`` and ``discover``); with
the CDK each of them paid its import (~2 s on a 2-core machine) before doing a few milliseconds of
work. The answers are small protocol documents the core already knows how to build: the spec is
the config schema, the catalog is :data:`trastpay.streams.EMITTED_STREAMS` with their JSON
Schemas, the check is :meth:`trastpay.session.TrastpaySession.check_without_rotation` (it never
spends the refresh token). This module writes them as the same JSON the CDK path writes
(``tests/source_trastpay/test_source_answers.py`` compares both paths message by message and
validates each against the protocol's models):

* the config is validated by the core first, then against the spec's schema like the CDK does;
* ``check``: an invalid setting is a FAILED status naming it; otherwise the core lists the cards
  with a valid access token or introspects the refresh token (no rotation; were the core ever to
  rotate, the CONNECTOR_CONFIG control message would be written before the new token is used),
  then "Check succeeded"/"Check failed" and the CONNECTION_STATUS; exit code 0 either way;
* ``discover``: an invalid setting is a config_error TRACE without stack trace, exit code 1;
* log lines (the audit trail of each API call) are LOG messages with the config's secrets and
  every rotated token replaced by ``****``, as the CDK's log formatter does;
* an unexpected exception is a FATAL log line and a system_error TRACE with its stack trace,
  exit code 1, as the CDK's uncaught-exception hook writes them.

One difference is deliberate: the CDK's "MemoryMonitor instantiated" LOG line is not written (there
is no read loop to watch). Whatever this module does not answer itself (another command, a missing
or extra argument, ``--debug``, an unreadable or non-object config file, a config the core accepts
but the spec's schema refuses) goes to the CDK path unchanged, before anything is written.
"""

from __future__ import annotations

import logging
import sys
import time
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

import orjson

from source_trastpay.protocol import UNEXPECTED, LogLines, SecretRegistry, error_message
from source_trastpay.spec import connection_specification, specification_document
from source_trastpay.wording import internal_message, user_message

if TYPE_CHECKING:
    from trastpay.errors import ConfigError

__all__ = ["CDK_INTERNAL_KEYS", "Answers", "Delegate", "catalog_document", "stream_document"]

CDK_INTERNAL_KEYS: frozenset[str] = frozenset({"_limit", "_page_size"})
"""Config keys the CDK takes for itself (its test-only InternalConfig); such a config goes to the CDK path."""

"""The CDK's user-facing message of a TRACE for an exception it did not expect."""


class Delegate(Exception):
    """Raised before anything is written: the CDK path must answer this invocation instead."""


def stream_document(
    name: str, json_schema: Mapping[str, Any], primary_key: tuple[str, ...], cursor_field: str | None
) -> dict[str, Any]:
    """One catalog entry as the CDK's ``Stream.as_airbyte_stream`` writes it for a Trastpay stream."""
    entry: dict[str, Any] = {
        "name": name,
        "json_schema": dict(json_schema),
        "supported_sync_modes": ["full_refresh"],
    }
    if cursor_field:
        entry["supported_sync_modes"].append("incremental")
        entry["source_defined_cursor"] = True
        entry["default_cursor_field"] = [cursor_field]
    if primary_key:
        entry["source_defined_primary_key"] = [[key] for key in primary_key]
    entry["is_resumable"] = bool(cursor_field)
    return entry


def catalog_document() -> dict[str, Any]:
    """The CATALOG payload: every stream of the core, in the core's order."""
    from trastpay.schemas import load_schema  # the catalog needs them, `spec` does not
    from trastpay.streams import EMITTED_STREAMS

    return {
        "streams": [
            stream_document(stream.name, load_schema(stream.name), stream.primary_key, stream.cursor_field)
            for stream in EMITTED_STREAMS
        ]
    }


class Answers:
    """Writes one command's protocol messages to ``out`` and returns its exit code."""

    def __init__(self, out: TextIO | None = None) -> None:
        self._out = out if out is not None else sys.stdout
        self._secrets: SecretRegistry | None = None
        self.written = False

    def write(self, message: Mapping[str, Any]) -> None:
        """One message, one line, flushed: a CONNECTOR_CONFIG must reach the platform at once."""
        self._out.write(orjson.dumps(message).decode("utf-8") + "\n")
        self._out.flush()
        self.written = True

    def log(self, level: str, text: str) -> None:
        hide = self._secrets or (lambda value: value)
        self.write({"type": "LOG", "log": {"level": level, "message": hide(text)}})

    # commands

    def spec(self) -> int:
        self.write({"type": "SPEC", "spec": specification_document()})
        return 0

    def check(self, config: dict[str, Any]) -> int:
        from trastpay.audit import LOGGER_NAME as AUDIT_LOGGER_NAME
        from trastpay.auth import TokenGrant
        from trastpay.errors import TrastpayError
        from trastpay.session import TrastpaySession

        hide = self._secrets_of(config)
        error = self._config_error(config)
        if error is not None:
            self._status("FAILED", hide(user_message(error)))
            return 0
        audit = logging.getLogger(AUDIT_LOGGER_NAME)
        if audit.level == logging.NOTSET:
            audit.setLevel(logging.INFO)  # as SourceTrastpay: the audit trail belongs in the sync log
        live = dict(config)

        def on_rotate(grant: TokenGrant) -> None:
            nonlocal live  # check never rotates; should the core ever do so, the platform hears first
            hide.add(grant.refresh_token)
            hide.add(grant.access_token)
            live = {**live, **grant.config_fields()}
            self._connector_config(live)

        from trastpay.config import parse_config

        failure: str | None = None
        with self._log_lines():
            try:
                session = TrastpaySession(parse_config(live), on_rotate=on_rotate)
                try:
                    session.check_without_rotation()
                finally:
                    session.close()
            except TrastpayError as refused:
                failure = hide(user_message(refused))
        if failure is None:
            self.log("INFO", "Check succeeded")
            self._status("SUCCEEDED", None)
        else:
            self.log("ERROR", "Check failed")
            self._status("FAILED", failure)
        return 0

    def discover(self, config: dict[str, Any]) -> int:
        hide = self._secrets_of(config)
        error = self._config_error(config)
        if error is not None:
            self.write(
                error_message(user_message(error), internal_message(error), None, "config_error", hide=hide)
            )
            return 1
        self.write({"type": "CATALOG", "catalog": catalog_document()})
        return 0

    def unexpected(self, error: BaseException) -> int:
        """What the CDK's uncaught-exception hook writes: a FATAL log line, then a system_error TRACE."""
        hide = self._secrets or (lambda value: value)
        stack = "".join(traceback.TracebackException.from_exception(error).format())
        self.log("FATAL", f"{error}\n{stack.rstrip()}")
        self.write(error_message(UNEXPECTED, str(error), stack, "system_error", hide=hide))
        return 1

    # pieces

    def _secrets_of(self, config: Mapping[str, Any]) -> SecretRegistry:
        self._secrets = SecretRegistry()
        self._secrets.from_config(connection_specification(), config)
        return self._secrets

    @contextmanager
    def _log_lines(self) -> Iterator[None]:
        """Python logging (the core's audit trail) as LOG messages while a command talks to the API."""
        handler = LogLines(self.log)
        root = logging.getLogger()
        root.addHandler(handler)
        try:
            yield
        finally:
            root.removeHandler(handler)

    def _config_error(self, config: dict[str, Any]) -> ConfigError | None:
        """The core's ConfigError for ``config``, or None when it is valid for the core and the spec.

        A failure the CDK path would report differently (not a config error, or a config the
        core accepts but the spec's schema refuses) is handed to the CDK path.
        """
        from trastpay.config import parse_config, schema_allows
        from trastpay.errors import ConfigError

        try:
            parse_config(config)
        except ConfigError as error:
            if error.failure_type != "config_error":
                raise Delegate from error
            return error
        if not schema_allows(connection_specification(), config):
            raise Delegate
        return None

    def _status(self, status: str, message: str | None) -> None:
        payload: dict[str, Any] = {"status": status}
        if message is not None:
            payload["message"] = message
        self.write({"type": "CONNECTION_STATUS", "connectionStatus": payload})

    def _connector_config(self, config: Mapping[str, Any]) -> None:
        self.write(
            {
                "type": "CONTROL",
                "control": {
                    "type": "CONNECTOR_CONFIG",
                    "emitted_at": time.time() * 1000,
                    "connectorConfig": {"config": dict(config)},
                },
            }
        )
