"""``trastpay webhooks serve`` as users run it: a real process, a signed delivery, then SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import requests

from trastpay.webhook_signatures import signature_header

SECRET = "whsec_cli_serve"


def test_given_serve_running_when_signed_delivery_then_sigterm_then_applied_and_clean_exit_0(
    tmp_path: Path,
) -> None:
    script = Path(sys.executable).with_name("trastpay")
    command = [str(script), "webhooks", "serve", "--secret-env", "TRASTPAY_TEST_WEBHOOK_SECRET"]
    command += ["--db", str(tmp_path / "events.sqlite"), "--port", "0"]
    environment = {**os.environ, "TRASTPAY_TEST_WEBHOOK_SECRET": SECRET}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        body = orjson.dumps({"id": "evt_cli_1", "type": "transaction.posted"})
        headers = {
            "x-trastpay-signature": signature_header([SECRET], int(time.time()), body),
            "x-idempotency-key": "evt_cli_1",
        }
        answer = requests.post(url + "hooks", data=body, headers=headers, timeout=10)
        health = requests.get(url + "healthz", timeout=10)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert url.startswith("http://127.0.0.1:")
    assert answer.json() == {"status": "applied"}
    assert health.json() == {"status": "ok"}
    assert process.returncode == 0
    assert "Stopped: 1 applied, 0 duplicates, 0 rejected." in stderr
    assert "Traceback" not in stderr
    assert SECRET not in stderr + stdout
