"""Every private singer-sdk name the tap uses or overrides, in one place.

singer-sdk's public API does not cover four things the tap needs: writing a record without the
SDK's per-record steps (the fast path of :mod:`tap_trastpay.streams`), keeping records from moving
bookmarks (the core's checkpoints do), validating config with the core before the SDK's schema
check (whose message quotes the offending value, a secret possibly), and closing a full-table
sync with ACTIVATE_VERSION. Each rests on a private method or helper; they are all here, behind
public hook names, so an SDK upgrade is reviewed in one file and
``tests/tap_trastpay/test_compat.py`` fails loudly (name, signature, behaviour) when the SDK
changes one of them.

Supported: singer-sdk ``SUPPORTED_SINGER_SDK`` (the range pinned in pyproject.toml's ``[singer]`` extra).
"""

from __future__ import annotations

import copy
import typing as t
from collections.abc import Generator, Mapping
from typing import Any

from singer_sdk import Stream, Tap
from singer_sdk.helpers._state import StateWriter, get_state_if_exists
from singer_sdk.helpers._util import utc_now
from singer_sdk.singerlib.encoding.simple import StateMessage

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types

SUPPORTED_SINGER_SDK = ">=0.54,<0.55"
"""The singer-sdk versions this module was checked against (pyproject.toml's ``[singer]`` extra)."""

__all__ = [
    "SUPPORTED_SINGER_SDK",
    "CompatStream",
    "CompatTap",
    "StateMessage",
    "get_state_if_exists",
    "utc_now",
]


class CompatStream(Stream):
    """singer-sdk's ``Stream`` with its private per-record and end-of-sync steps behind public hooks."""

    def write_record(self, record: types.Record) -> None:
        """Write one RECORD (the hook the tap overrides); by default the SDK's own way."""
        self.sdk_write_record(record)

    def sdk_write_record(self, record: types.Record) -> None:
        """singer-sdk's record path: deselected properties dropped, conformance, stream maps."""
        super()._write_record_message(record)

    @property
    def table_version(self) -> int | None:
        """The full-table version of this sync (set when ACTIVATE_VERSION messages are on), else None."""
        return self._stream_version

    def _write_record_message(self, record: types.Record) -> None:
        self.write_record(record)

    def _increment_stream_state(
        self, latest_record: types.Record, *, context: types.Context | None = None
    ) -> None:
        """Records never move a bookmark: only the core's checkpoints do (tap_trastpay/streams.py)."""

    def _sync_records(
        self, context: types.Context | None = None, *, write_messages: bool = True
    ) -> Generator[dict[str, Any], Any, Any]:
        """singer-sdk's record sync, then a closing ACTIVATE_VERSION for a complete full-table sync.

        singer-sdk announces the new table version before the first record (when
        ``emit_activate_version_messages`` is on); announcing it again after the last record is
        the Singer convention that lets a target drop the rows of older versions (cards that were
        unlinked) once the new version is complete. A failed sync never sends it.
        """
        yield from super()._sync_records(context, write_messages=write_messages)
        if write_messages and context is None and self._stream_version is not None:
            self._write_activate_version_message(self._stream_version)


class FrozenStateWriter(StateWriter):
    """Writes the incoming state, whatever the SDK's bookkeeping did to its own copy (backfills)."""

    def __init__(self, message_writer: Any, state: Mapping[str, Any]) -> None:
        super().__init__(message_writer)
        self._frozen = copy.deepcopy(dict(state))

    def write_state(self, state: Any) -> None:
        super().write_state(copy.deepcopy(self._frozen))  # type: ignore[arg-type]  # a TapState dict


class CompatTap(Tap):
    """singer-sdk's ``Tap`` with its private config validation and state writer behind public hooks."""

    def freeze_state_messages(self, state: Mapping[str, Any]) -> None:
        """Every STATE message from now on carries ``state`` as given (sets the SDK's ``_state_writer``)."""
        self._state_writer = FrozenStateWriter(self.message_writer, state)

    def validate_settings(self, config: Mapping[str, Any], *, raise_errors: bool) -> list[str] | None:
        """Validate before singer-sdk does; answer the errors to report, or None to let the SDK check."""
        return None

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = self.validate_settings(self.config, raise_errors=raise_errors)
        if errors is not None:
            return errors
        return super()._validate_config(raise_errors=raise_errors)
