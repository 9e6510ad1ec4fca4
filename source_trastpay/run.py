"""The CDK path of ``source-trastpay``: the Airbyte protocol commands spec, check, discover, read.

The console script (:mod:`source_trastpay.console`) runs this path for every invocation the direct
answers do not take (``--debug``, ``LOG_LEVEL=debug``, unrecognised arguments or inputs) and for
every command when ``TRASTPAY_FAST_PATH=0``; ``python -m source_trastpay.run`` always runs it.

:class:`TrastpayEntrypoint` differs from the CDK's in two places:

* a config is validated by the core first, so an invalid setting is reported as "Invalid config
  field '<name>': <what is wrong>" (the CDK's own schema check names the offending value, not
  the setting, and may quote it);
* ``read`` serialises RECORD messages itself, as the same JSON the CDK writes (``type``, then
  ``record`` with ``stream``, ``data``, ``emitted_at``), without first converting each message
  to a dict through the CDK's generic serializer: on a large sync that conversion costs as much
  as everything the core does per record. Every other message, and the whole read loop (state
  record counts, memory monitor, queued messages), is the CDK's own. Lines are handed to stdout
  in small batches; a STATE message is never written before the records it follows. One
  deliberate difference: the CDK's serializer drops a record's top-level ``null`` fields, this
  one writes them as the API sent them (``"closed_at": null``); destinations read both alike.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (  # type: ignore[attr-defined]  # implicit re-exports
    AirbyteMessage,
    ConnectorSpecification,
    FailureType,
    Type,
)
from airbyte_cdk.utils.traced_exception import AirbyteTracedException

from source_trastpay.compat import PRINT_BUFFER, CompatEntrypoint
from source_trastpay.errors import to_traced_exception
from source_trastpay.source import SourceTrastpay
from trastpay.config import parse_config
from trastpay.errors import ConfigError


class TrastpayEntrypoint(CompatEntrypoint):
    """The CDK entrypoint with the core's config validation in front of the schema check."""

    @staticmethod
    def validate_connection(source_spec: ConnectorSpecification, config: Mapping[str, Any]) -> None:
        try:
            parse_config(config)
        except ConfigError as error:
            raise to_traced_exception(error) from None
        AirbyteEntrypoint.validate_connection(source_spec, config)

    def run(self, parsed_args: argparse.Namespace) -> Iterable[str]:
        if parsed_args.command != "read":
            yield from super().run(parsed_args)
            return
        yield from self.read_command(parsed_args, message_line)


def message_line(message: AirbyteMessage) -> str:
    """One protocol line: RECORD messages serialised directly, the rest by the CDK."""
    record = message.record
    if (
        message.type is Type.RECORD
        and record is not None
        and record.namespace is None
        and record.meta is None
    ):
        return orjson.dumps(
            {
                "type": "RECORD",
                "record": {"stream": record.stream, "data": record.data, "emitted_at": record.emitted_at},
            }
        ).decode("utf-8")
    return AirbyteEntrypoint.airbyte_message_to_string(message)


BATCH_LINES = 256
"""Record lines joined into one write; anything else flushes the batch first and goes out at once."""


def run(args: list[str] | None = None) -> None:
    """Run one Airbyte command (``sys.argv`` by default) and write its messages to stdout.

    Any failure ends the command with one TRACE message and exit code 1. A configuration or
    transient error carries no Python stack trace: there is no bug to debug, only one sentence
    the user must read. A system error (a bug, an unexpected answer) keeps its stack trace.
    Secrets are filtered out of each field of the message before it is serialised (see
    :func:`error_line`), never out of the finished JSON line.
    """
    entrypoint = TrastpayEntrypoint(SourceTrastpay())
    parsed = entrypoint.parse_args(sys.argv[1:] if args is None else args)
    with PRINT_BUFFER:
        batch: list[str] = []
        write = sys.stdout.write
        try:
            for line in entrypoint.run(parsed):
                batch.append(line)
                if len(batch) >= BATCH_LINES or not line.startswith('{"type":"RECORD"'):
                    batch.append("")
                    write("\n".join(batch))
                    batch.clear()
        except Exception as exc:  # every failure: one TRACE line, secrets filtered by value
            error = (
                exc if isinstance(exc, AirbyteTracedException) else AirbyteTracedException.from_exception(exc)
            )
            batch.append(error_line(error))
            batch.append("")
            write("\n".join(batch))
            PRINT_BUFFER.flush()
            sys.exit(1)
        if batch:
            batch.append("")
            write("\n".join(batch))


def error_line(error: AirbyteTracedException) -> str:
    """The TRACE message of ``error``: secrets filtered out of each of its fields, then serialised.

    Filtering the finished line instead would let a server-chosen token (``type``, ``"``) that
    became a secret when it rotated in rewrite the JSON itself. The stack trace is kept only for
    a system error.
    """
    message = error.as_sanitized_airbyte_message()
    if message.trace is not None and message.trace.error is not None:
        trace = message.trace.error
        if error.failure_type in (FailureType.config_error, FailureType.transient_error):
            trace.stack_trace = None
    return AirbyteEntrypoint.airbyte_message_to_string(message)


if __name__ == "__main__":
    run()
