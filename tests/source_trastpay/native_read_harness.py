"""Run ``source-trastpay read`` on both paths as real processes and compare what they write.

The direct path (``TRASTPAY_FAST_PATH`` unset) and the CDK path (``TRASTPAY_FAST_PATH=0``) each
run the console script in a cold subprocess. Their messages are compared one by one after
replacing only values that differ between any two runs:

* ``emitted_at`` of records, traces and control messages; the sync's id, start time and window
  end in ``sync_audit`` records (the client's clock); each run's own device id and tokens;
* the duration figures in the CDK's "<source> runtimes:" log line;
* traceback text (an error log line keeps its first line, a TRACE's ``stack_trace`` its last);
* the CDK's "MemoryMonitor instantiated" line (the direct path has no CDK memory monitor).

The audit trail (one LOG line per API call, written by the core's worker threads as pages
arrive) and the CONNECTOR_CONFIG control messages (written by whichever thread rotates the token)
interleave with the main thread's messages in an order neither path controls; they are compared
as multisets, everything else in order, with one more allowance: the CDK path batches record
lines (``source_trastpay.run``) while its log lines go straight out, so a LOG line there may
overtake records written before it (never a TRACE or STATE). Log lines are therefore compared in
order with every message but records, and records in order with every message but log lines.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from airbyte_protocol.models import AirbyteMessage as ProtocolMessage

SOURCE = Path(sys.executable).parent / "source-trastpay"
MEMORY_MONITOR = "MemoryMonitor instantiated"
AUDIT_KEYS = ("event", "method", "path", "status", "outcome", "attempt")
RUNTIMES = re.compile(r"\d+:\d\d:\d\d(\.\d+)?")
VOLATILE_AUDIT_FIELDS = ("sync_id", "sync_started_at", "window_end")


def run_source(argv: list[str], *, fast: bool) -> tuple[int, list[dict[str, Any]]]:
    """The console script's exit code and messages, from a cold process on the chosen path."""
    env = {key: value for key, value in os.environ.items() if key not in ("LOG_LEVEL", "TRASTPAY_FAST_PATH")}
    if not fast:
        env["TRASTPAY_FAST_PATH"] = "0"
    done = subprocess.run([str(SOURCE), *argv], capture_output=True, timeout=600, check=False, env=env)
    lines = done.stdout.decode().splitlines()
    return done.returncode, [json.loads(line) for line in lines if line.strip()]


def _normalised(message: dict[str, Any], private: tuple[str, ...]) -> tuple[bool, Any]:
    """``(in order?, comparable form)`` of one message."""
    text = json.dumps(message)
    for value in private:
        text = text.replace(value, "<private>")
    document = json.loads(text)
    kind = document["type"]
    if kind == "LOG":
        line = document["log"]["message"]
        if line.startswith('{"event"'):
            event = json.loads(line)
            return False, ("LOG", document["log"]["level"], tuple(event.get(key) for key in AUDIT_KEYS))
        if line.startswith("Encountered an exception"):
            line = line.split("\n", 1)[0]
        line = RUNTIMES.sub("<duration>", line)
        return True, ("LOG", document["log"]["level"], line)
    for holder in (document.get("trace"), document.get("control"), document.get("record")):
        if holder is not None and "emitted_at" in holder:
            holder["emitted_at"] = 0
    if kind == "TRACE" and "error" in document["trace"]:
        error = document["trace"]["error"]
        if "stack_trace" in error:
            error["stack_trace"] = error["stack_trace"].rstrip().rsplit("\n", 1)[-1]
    if kind == "RECORD" and document["record"]["stream"] == "sync_audit":
        for field in VOLATILE_AUDIT_FIELDS:
            document["record"]["data"][field] = "<run>"
    if kind == "CONTROL":
        config = document["control"]["connectorConfig"]["config"]
        for field in ("refresh_token", "access_token", "token_expiry_date"):
            config[field] = "<rotated>"
        return False, json.dumps(document, sort_keys=True)
    return True, document


Comparable = tuple[list[Any], list[Any], Counter[Any]]


def comparable(messages: list[dict[str, Any]], private: tuple[str, ...]) -> Comparable:
    """Messages but records in order, messages but logs in order, and the multiset of the
    others (see the module docstring)."""
    without_records: list[Any] = []
    without_logs: list[Any] = []
    unordered: Counter[Any] = Counter()
    for message in messages:
        if message["type"] == "LOG" and message["log"]["message"].startswith(MEMORY_MONITOR):
            continue
        in_order, form = _normalised(message, private)
        if not in_order:
            unordered[form] += 1
            continue
        if message["type"] != "RECORD":
            without_records.append(form)
        if message["type"] != "LOG":
            without_logs.append(form)
    return without_records, without_logs, unordered


def first_difference(left: Comparable, right: Comparable) -> str:
    """Where two :func:`comparable` answers part (for an assertion message)."""
    for part in (0, 1):
        for index, (a, b) in enumerate(zip(left[part], right[part], strict=False)):
            if a != b:
                return f"part {part}, message {index}:\n direct {a!r}\n cdk    {b!r}"
        if len(left[part]) != len(right[part]):
            tails = f"{left[part][-3:]!r} / {right[part][-3:]!r}"
            return f"part {part}: {len(left[part])} != {len(right[part])} messages; tails {tails}"
    return f"unordered: direct only {left[2] - right[2]!r}; cdk only {right[2] - left[2]!r}"


def assert_protocol_messages(messages: list[dict[str, Any]]) -> None:
    """Each message is valid for the protocol's models; all but records survive them unchanged
    (the models drop a record's null fields, which the source writes as the API sent them)."""
    for message in messages:
        model = ProtocolMessage.model_validate(message)
        if message["type"] != "RECORD":
            assert model.model_dump(mode="json", exclude_none=True) == message


def private_values(config: dict[str, Any]) -> tuple[str, ...]:
    """What differs between the two runs' configs: device id and tokens (longest first)."""
    values = [str(config[key]) for key in ("device_id", "refresh_token", "access_token") if config.get(key)]
    return tuple(sorted(values, key=len, reverse=True))
