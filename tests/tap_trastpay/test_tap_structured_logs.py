"""The SDK-free sync under Meltano's ``SINGER_SDK_LOG_CONFIG``: the same structured log lines.

Meltano starts every Singer tap with a logging config naming ``singer_sdk.logging.StructuredFormatter``
and parses the tap's stderr with its ``singer-sdk`` log parser, which needs the fields below on
every line. Both paths run as real processes against the sandbox with Meltano's config shape.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tap_trastpay.console import plain_sync
from tap_trastpay.structured_logs import StructuredFormatter, translated_config

from .tap_harness import TAP_EXECUTABLE, write_catalog

MELTANO_REQUIRED = {"level", "pid", "logger_name", "ts", "thread_name", "app_name", "message"}
"""The fields Meltano's ``SingerSDKLogParser`` requires before it accepts a line as structured."""


def _meltano_log_config(path: Path, formatter: dict[str, Any]) -> Path:
    """The logging config Meltano writes for a Singer tap (its shape in meltano/core/plugin/singer)."""
    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"singer_formatter": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "singer_formatter",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["console"], "level": "INFO"},
    }
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def _run(config: Path, catalog: Path, log_config: Path, fast: bool) -> list[dict[str, Any]]:
    env = {**os.environ, "SINGER_SDK_LOG_CONFIG": str(log_config), "TRASTPAY_FAST_PATH": "1" if fast else "0"}
    done = subprocess.run(
        [str(TAP_EXECUTABLE), "--config", str(config), "--catalog", str(catalog)],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return [json.loads(line) for line in done.stderr.splitlines() if line.strip()]


def test_given_meltanos_structured_log_config_when_syncing_then_sdk_free_lines_parse_like_singer_sdks(
    tap_config: dict[str, Any], tmp_path: Path
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(tap_config), encoding="utf-8")
    catalog = tmp_path / "catalog.json"
    write_catalog(tap_config, catalog, {"cards", "card_transactions"})
    log_config = _meltano_log_config(
        tmp_path / "tap.singer_sdk_logging.json", {"()": "singer_sdk.logging.StructuredFormatter"}
    )
    assert (
        plain_sync(
            ["--config", str(config), "--catalog", str(catalog)],
            {**os.environ, "SINGER_SDK_LOG_CONFIG": str(log_config)},
        )
        is not None
    )

    fast = _run(config, catalog, log_config, fast=True)
    sdk = _run(config, catalog, log_config, fast=False)

    for lines in (fast, sdk):
        assert lines
        assert all(line.keys() >= MELTANO_REQUIRED for line in lines)
        assert tap_config["refresh_token"] not in json.dumps(lines)

    def metrics(lines: list[dict[str, Any]]) -> set[tuple[str, str, tuple[str, ...]]]:
        return {
            (
                m["metric_info"]["metric"],
                m["metric_info"]["tags"].get("stream", ""),
                tuple(sorted(m["metric_info"])),
            )
            for m in lines
            if m["message"] == "METRIC" and m["metric_info"]["metric"] in ("record_count", "sync_duration")
        }

    assert metrics(fast)
    assert metrics(fast) <= metrics(sdk)
    assert {line["level"] for line in fast} <= {"debug", "info", "warning", "error", "critical"}


def test_given_a_plain_format_config_when_dispatching_then_the_sdk_free_path_runs(tmp_path: Path) -> None:
    log_config = _meltano_log_config(tmp_path / "plain.json", {"format": "%(message)s"})
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"refresh_token": "r"}), encoding="utf-8")
    request = plain_sync(["--config", str(config)], {"SINGER_SDK_LOG_CONFIG": str(log_config)})
    assert request is not None
    assert request.log_config is not None
    assert request.log_config["formatters"] == {"singer_formatter": {"format": "%(message)s"}}


@pytest.mark.parametrize(
    "formatter",
    [{"()": "singer_sdk.logging.SomethingNew"}, {"()": "singer_sdk.helpers.Other", "x": 1}],
)
def test_given_a_config_naming_other_singer_sdk_objects_when_dispatching_then_singer_sdk_answers(
    tmp_path: Path, formatter: dict[str, Any]
) -> None:
    log_config = _meltano_log_config(tmp_path / "other.json", formatter)
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"refresh_token": "r"}), encoding="utf-8")
    assert plain_sync(["--config", str(config)], {"SINGER_SDK_LOG_CONFIG": str(log_config)}) is None
    assert translated_config({"formatters": {"f": formatter}}) is None


def test_given_an_error_with_a_cause_when_formatted_then_the_exception_and_its_cause_are_data() -> None:
    try:
        try:
            raise KeyError("inner")
        except KeyError as inner:
            raise ValueError("outer") from inner
    except ValueError as error:
        record = logging.LogRecord("tap-trastpay", logging.ERROR, __file__, 1, "failed: %s", ("x",), None)
        record.exc_info = (type(error), error, error.__traceback__)
    line = json.loads(StructuredFormatter().format(record))
    assert line["message"] == "failed: x"
    assert line["level"] == "error"
    assert line["exception"]["type"] == "ValueError"
    assert line["exception"]["cause"]["type"] == "KeyError"
    assert line["exception"]["traceback"][0]["function"].startswith("test_given_an_error")
