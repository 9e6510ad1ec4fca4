"""Every private or undocumented airbyte-cdk name the source uses or overrides, in one place.

The CDK's public surface does not cover three things the source needs: the ``read`` command with
our own RECORD serializer (:mod:`source_trastpay.run`), counting records per stream without
building a descriptor per record, and a stream ``read`` that emits the core's checkpoints as they
come (:mod:`source_trastpay.streams`). They rest on the entrypoint's queued-message flush, its
record counter, the request-cache variable, the print buffer and ``Stream.read``'s internal
signature; all of them are here, behind public names, so a CDK upgrade is reviewed in one file and
``tests/source_trastpay/test_compat.py`` fails loudly (name, signature, behaviour) when one changes.

Supported: airbyte-cdk ``SUPPORTED_AIRBYTE_CDK`` (the range pinned in pyproject.toml's ``[airbyte]`` extra).
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any

from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.logger import PRINT_BUFFER, is_platform_debug_log_enabled
from airbyte_cdk.models import (  # type: ignore[attr-defined]  # implicit re-exports
    AirbyteMessage,
    ConfiguredAirbyteStream,
    Type,
)
from airbyte_cdk.sources.connector_state_manager import HashableStreamDescriptor
from airbyte_cdk.sources.streams import Stream
from airbyte_cdk.sources.streams.core import NO_CURSOR_STATE_KEY, StreamData
from airbyte_cdk.utils.constants import ENV_REQUEST_CACHE_PATH

SUPPORTED_AIRBYTE_CDK = ">=7.0,<8"
"""The airbyte-cdk versions this module was checked against (pyproject.toml's ``[airbyte]`` extra)."""

__all__ = [
    "ENV_REQUEST_CACHE_PATH",
    "NO_CURSOR_STATE_KEY",
    "PRINT_BUFFER",
    "SUPPORTED_AIRBYTE_CDK",
    "CompatEntrypoint",
    "CompatStream",
    "StreamData",
]

_DESCRIPTORS: dict[tuple[str, str | None], HashableStreamDescriptor] = {}


class CompatEntrypoint(AirbyteEntrypoint):
    """The CDK entrypoint with its ``read`` command and record counter behind public hooks."""

    @staticmethod
    def handle_record_counts(
        message: AirbyteMessage, stream_message_count: defaultdict[HashableStreamDescriptor, float]
    ) -> AirbyteMessage:
        """The CDK's per-stream record count, keyed by one descriptor object per stream.

        The CDK builds (and hashes) a new descriptor for every record; reusing one per stream
        keeps the same counts at a fraction of the cost. STATE messages are the CDK's own.
        """
        record = message.record
        if message.type is Type.RECORD and record is not None:
            key = (record.stream, record.namespace)
            descriptor = _DESCRIPTORS.get(key)
            if descriptor is None:
                descriptor = _DESCRIPTORS[key] = HashableStreamDescriptor(
                    name=record.stream, namespace=record.namespace
                )
            stream_message_count[descriptor] += 1.0
            return message
        return AirbyteEntrypoint.handle_record_counts(message, stream_message_count)

    def read_command(
        self, parsed_args: argparse.Namespace, serialize: Callable[[AirbyteMessage], str]
    ) -> Iterator[str]:
        """The CDK's ``read`` command (as in ``AirbyteEntrypoint.run``) with ``serialize`` for every line."""
        if getattr(parsed_args, "debug", False) or is_platform_debug_log_enabled():
            self.logger.setLevel(logging.DEBUG)
        else:
            self.logger.setLevel(logging.INFO)
        source_spec = self.source.spec(self.logger)
        try:
            # configure() writes the config (secrets included) into this directory, which the CDK
            # also uses as its request-cache location: it must never be the working directory.
            with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as temp_dir:
                os.environ[ENV_REQUEST_CACHE_PATH] = temp_dir
                config = self.source.configure(self.source.read_config(parsed_args.config), temp_dir)
                yield from map(serialize, self._emit_queued_messages(self.source))
                catalog = self.source.read_catalog(parsed_args.catalog)
                state = self.source.read_state(parsed_args.state)
                yield from map(serialize, self.read(source_spec, config, catalog, state))
        finally:
            yield from map(serialize, self._emit_queued_messages(self.source))


class CompatStream(Stream):
    """A CDK stream whose ``read`` (internal signature) hands over to :meth:`read_stream`."""

    def read_stream(
        self,
        configured_stream: ConfiguredAirbyteStream,
        stream_state: MutableMapping[str, Any],
        state_manager: Any,
    ) -> Iterable[StreamData]:
        """Records and STATE messages of one stream; ``state_manager`` is the CDK's, to record state in."""
        raise NotImplementedError

    def read(
        self,
        configured_stream: ConfiguredAirbyteStream,
        logger: logging.Logger,
        slice_logger: Any,
        stream_state: MutableMapping[str, Any],
        state_manager: Any,
        internal_config: Any,
    ) -> Iterable[StreamData]:
        return self.read_stream(configured_stream, stream_state, state_manager)
