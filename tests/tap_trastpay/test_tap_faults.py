"""Through singer-sdk, the core's client still rides out a misbehaving API without losing a record.

The tap uses plain SDK streams whose reads go through the core: 429 with ``Retry-After``, 5xx,
truncated pages and access tokens expiring mid-pagination must all end in the same records as a
clean sync, with the token rotated and saved as it goes.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from trastpay.streams import STREAMS_BY_NAME
from trastpay_sandbox.testing import SandboxServer

from .tap_harness import key_of, keys_by_stream, run_tap


@pytest.fixture
def faulty_sandbox(tap_sandbox: SandboxServer) -> Iterator[SandboxServer]:
    yield tap_sandbox
    tap_sandbox.clear_faults()


def _truth_keys(sandbox: SandboxServer, phone: str) -> dict[str, set[tuple[Any, ...]]]:
    return {
        name: {key_of(stream, record) for record in sandbox.truth(name, phone)}
        for name, stream in STREAMS_BY_NAME.items()
    }


@pytest.mark.parametrize(
    "faults",
    [
        {"rate_limit_storm": {"duration_s": 1, "retry_after_s": 1}},
        {"error_rate": {"ratio": 0.15, "status": 503}, "malformed_page": {"every_n": 9}},
        {"expire_token_after_pages": 3},
    ],
    ids=["429-retry-after", "5xx-and-truncated-pages", "token-expires-mid-pagination"],
)
def test_given_api_faults_when_syncing_then_every_record_still_arrives(
    faulty_sandbox: SandboxServer, tap_phone: str, tap_config: dict[str, Any], faults: dict[str, Any]
) -> None:
    faulty_sandbox.set_faults(faults)
    result = run_tap({**tap_config, "page_size": 25, "max_retries": 8})
    served = faulty_sandbox.faults()["counters"]
    faulty_sandbox.clear_faults()
    assert all(served[name] > 0 for name in faults), f"the sandbox did not misbehave: {served}"
    assert keys_by_stream(result) == _truth_keys(faulty_sandbox, tap_phone)
