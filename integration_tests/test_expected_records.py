"""CAT's basic read with expected records, which the standard suite no longer runs.

A full-refresh read of the pinned streams must return exactly the records in
``expected_records.jsonl`` (sorted by primary key; emitted_at ignored). The file is a function of
``SANDBOX_OPTIONS``: after a deliberate change of the seeded world, regenerate it with
``python integration_tests/acceptance.py write-fixtures`` and review the diff.
"""

from __future__ import annotations

from airbyte_cdk.models import SyncMode  # type: ignore[attr-defined]

from .acceptance import (
    EXPECTED_STREAMS,
    ConfigFactory,
    load_catalog,
    read_expected_records,
    records_of,
    run_read,
    sorted_records,
)


def test_given_seeded_world_when_read_in_full_refresh_then_records_equal_expected_records(
    fresh_config: ConfigFactory,
) -> None:
    expected = read_expected_records()
    output = run_read(
        fresh_config(device_id="expected-records"),
        load_catalog(EXPECTED_STREAMS, sync_mode=SyncMode.full_refresh),
    )

    actual = list(sorted_records(records_of(output)))

    assert {entry["stream"] for entry in expected} == set(EXPECTED_STREAMS)
    assert len(actual) == len(expected)
    mismatches = [(want, got) for want, got in zip(expected, actual, strict=True) if want != got]
    assert not mismatches, (
        f"{len(mismatches)} records differ, first: {mismatches[0]}; if the seeded world changed on purpose, "
        "run `python integration_tests/acceptance.py write-fixtures`"
    )
