"""The sandbox world the acceptance files describe, and how their placeholders become real configs.

The JSON configs in ``integration_tests/`` are checked in with two placeholders, because a
refresh token is single use and the sandbox port is picked at run time:

* ``base_url`` = :data:`PLACEHOLDER_BASE_URL` -> the running sandbox's API URL;
* ``refresh_token`` = :data:`PLACEHOLDER_REFRESH_TOKEN` -> the refresh token of a fresh OTP login
  (any other value, like the deliberately wrong token of ``invalid_config.json``, is kept).

:func:`materialize` writes the real copy; ``conftest.py`` does it for the tests. Run this module to
do it by hand (for the Docker-based acceptance tests or a manual ``source-trastpay read``) or to
regenerate ``expected_records.jsonl``, ``sample_state.json`` and ``abnormal_state.json`` after a
deliberate change of the seeded world::

    python integration_tests/acceptance.py serve --out /tmp/trastpay-configs
    python integration_tests/acceptance.py write-fixtures
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from airbyte_cdk.models import (  # type: ignore[attr-defined]  # implicit re-exports
    AirbyteStateMessage,
    AirbyteStateMessageSerializer,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    SyncMode,
    Type,
)
from airbyte_cdk.test.entrypoint_wrapper import EntrypointOutput, read

from source_trastpay import SourceTrastpay
from trastpay.streams import STREAMS, get_stream
from trastpay_sandbox.testing import SandboxServer

HERE = Path(__file__).resolve().parent

PLACEHOLDER_BASE_URL = "http://sandbox.invalid/api/v1/trastpay"
PLACEHOLDER_REFRESH_TOKEN = "fresh-login-at-test-time"
CLIENT_ID = "trastpay-connectors"
DEVICE_ID = "acceptance-device"

SANDBOX_OPTIONS: dict[str, Any] = {
    "seed": 15,
    "customers": 2,
    "history_days": 150,
    "clock_start": "2026-11-01T12:00:00+05:00",
}
"""A small, fixed world: two customers, five months of history, a frozen clock start.

``expected_records.jsonl`` is a function of these values; the sandbox clock must stay earlier than
the wall clock (the connector never asks for data after its own "now").
"""

ConfigFactory = Callable[..., dict[str, Any]]
"""``make(device_id=..., phone=None, **overrides)``: a valid config for a fresh OTP login."""

PLACEHOLDER_CONFIGS = ("sample_config.json", "invalid_config.json")
EXPECTED_RECORDS = HERE / "expected_records.jsonl"
EXPECTED_STREAMS = (
    "cards",
    "statements",
    "microloans",
    "microloan_schedules",
    "virtual_cards",
    "fx_conversions",
    "cashback_ledger",
)
"""Streams whose full-refresh records are pinned in ``expected_records.jsonl`` (small, stable ones)."""


def runtime_config_dir() -> Path:
    """Where this process writes the real configs (one directory per test process, e.g. xdist worker)."""
    return Path(tempfile.gettempdir()) / f"source-trastpay-acceptance-{os.getpid()}"


def first_customer_phone(server: SandboxServer) -> str:
    return str(server.customers()[0]["phone"])


def fresh_refresh_token(
    server: SandboxServer, *, device_id: str = DEVICE_ID, phone: str | None = None
) -> str:
    """Log in with an OTP like a user would and return the new refresh token."""
    tokens = server.login(phone or first_customer_phone(server), device_id=device_id, client_id=CLIENT_ID)
    return str(tokens["refresh_token"])


def load_placeholder_config(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HERE / name).read_text(encoding="utf-8"))
    return loaded


def materialize(config: Mapping[str, Any], *, api_url: str, refresh_token: str) -> dict[str, Any]:
    """``config`` with its placeholders replaced; every other value is kept as written."""
    real = dict(config)
    if real.get("base_url") == PLACEHOLDER_BASE_URL:
        real["base_url"] = api_url
    if real.get("refresh_token") == PLACEHOLDER_REFRESH_TOKEN:
        real["refresh_token"] = refresh_token
    return real


def write_runtime_configs(server: SandboxServer, target: Path) -> dict[str, Path]:
    """Write real copies of every placeholder config into ``target`` (0600: they hold a live token)."""
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    token = fresh_refresh_token(server)
    written: dict[str, Path] = {}
    for name in PLACEHOLDER_CONFIGS:
        path = target / name
        real = materialize(load_placeholder_config(name), api_url=server.api_url, refresh_token=token)
        path.touch(mode=0o600)
        path.write_text(json.dumps(real, indent=2) + "\n", encoding="utf-8")
        written[name] = path
    return written


def record_key(stream: str, data: Mapping[str, Any]) -> tuple[str, ...]:
    """Stream name plus the primary key values: what a destination deduplicates on."""
    return (stream, *(str(data[field]) for field in get_stream(stream).primary_key))


def read_expected_records(path: Path = EXPECTED_RECORDS) -> list[dict[str, Any]]:
    """The pinned records, each ``{"stream": ..., "data": {...}}`` as in CAT's expected records."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def sorted_records(records: Iterable[tuple[str, Mapping[str, Any]]]) -> Iterator[dict[str, Any]]:
    for stream, data in sorted(records, key=lambda item: record_key(item[0], item[1])):
        yield {"stream": stream, "data": dict(data)}


def load_catalog(
    streams: Iterable[str] | None = None, *, sync_mode: SyncMode | None = None
) -> ConfiguredAirbyteCatalog:
    """``configured_catalog.json`` (incremental where supported), optionally cut to ``streams``."""
    document = json.loads(CONFIGURED_CATALOG.read_text(encoding="utf-8"))
    wanted = None if streams is None else set(streams)
    entries = [e for e in document["streams"] if wanted is None or e["stream"]["name"] in wanted]
    if sync_mode is not None:
        for entry in entries:
            entry["sync_mode"] = sync_mode.value
    return ConfiguredAirbyteCatalogSerializer.load({"streams": entries})


def run_read(
    config: Mapping[str, Any],
    catalog: ConfiguredAirbyteCatalog,
    state: list[AirbyteStateMessage] | None = None,
) -> EntrypointOutput:
    """One in-process ``read`` through the Airbyte entrypoint; fails the caller on any error trace."""
    output = read(SourceTrastpay(), config, catalog, state)
    output.raise_if_errors()
    return output


def final_states(output: EntrypointOutput) -> dict[str, dict[str, Any]]:
    """The last state each stream emitted, as plain dicts."""
    states: dict[str, dict[str, Any]] = {}
    for message in output.state_messages:
        assert message.state is not None
        assert message.state.stream is not None
        stream_state = message.state.stream
        states[stream_state.stream_descriptor.name] = dict(stream_state.stream_state.__dict__)
    return states


def as_state_messages(states: Mapping[str, Mapping[str, Any]]) -> list[AirbyteStateMessage]:
    return [
        AirbyteStateMessageSerializer.load(
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": dict(state)}}
        )
        for name, state in states.items()
    ]


def records_of(output: EntrypointOutput) -> list[tuple[str, dict[str, Any]]]:
    return [
        (message.record.stream, message.record.data)
        for message in output.get_message_by_types([Type.RECORD])
        if message.record is not None
    ]


FUTURE_CURSOR = "2099-01-01T00:00:00+05:00"
ABNORMAL_STATE = HERE / "abnormal_state.json"
SAMPLE_STATE = HERE / "sample_state.json"
CONFIGURED_CATALOG = HERE / "configured_catalog.json"


def future_state(final_states: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """STREAM state messages that put every incremental stream and partition far in the future."""
    messages = []
    for stream in STREAMS:
        if not stream.incremental:
            continue
        reached = final_states.get(stream.name, {})
        if stream.partitioned:
            keys = sorted(reached.get("partitions", {}))
            state: dict[str, Any] = {"partitions": {key: {"cursor": FUTURE_CURSOR} for key in keys}}
        else:
            state = {"cursor": FUTURE_CURSOR}
        messages.append(
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": stream.name}, "stream_state": state}}
        )
    return messages


def _write_json(path: Path, document: Any) -> None:
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_fixtures() -> None:
    with SandboxServer(**SANDBOX_OPTIONS) as server:
        config = materialize(
            load_placeholder_config("sample_config.json"),
            api_url=server.api_url,
            refresh_token=fresh_refresh_token(server),
        )
        pinned = records_of(run_read(config, load_catalog(EXPECTED_STREAMS, sync_mode=SyncMode.full_refresh)))
        reached = final_states(run_read(config, load_catalog()))
    lines = [json.dumps(entry, ensure_ascii=False, sort_keys=True) for entry in sorted_records(pinned)]
    EXPECTED_RECORDS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sample = [
        {"type": "STREAM", "stream": {"stream_descriptor": {"name": name}, "stream_state": state}}
        for name, state in reached.items()
    ]
    _write_json(SAMPLE_STATE, sample)
    _write_json(ABNORMAL_STATE, future_state(reached))
    names = f"{EXPECTED_RECORDS.name} ({len(lines)} records), {SAMPLE_STATE.name}, {ABNORMAL_STATE.name}"
    print(f"wrote {names}")


def _serve(out: Path) -> None:
    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    with SandboxServer(**SANDBOX_OPTIONS) as server:
        written = write_runtime_configs(server, out)
        print(f"sandbox at {server.base_url}; configs: {', '.join(str(p) for p in written.values())}")
        print("Ctrl-C stops the sandbox.")
        try:
            while server.running:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="start the sandbox and write real configs until Ctrl-C")
    serve.add_argument("--out", type=Path, required=True, help="directory for the real configs")
    commands.add_parser(
        "write-fixtures",
        help="regenerate expected_records.jsonl, sample_state.json and abnormal_state.json",
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        _serve(args.out)
    else:
        _write_fixtures()
    return 0


if __name__ == "__main__":
    sys.exit(main())
