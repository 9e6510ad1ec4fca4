"""`trastpay microloans` and `trastpay fx`: tables with exact amounts and masked cards only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from trastpay.money import minor_to_decimal
from trastpay_sandbox.testing import SandboxServer

_FULL_PAN = re.compile(r"(?<![0-9])[0-9]{13,19}(?![0-9])")


def test_given_customer_with_loans_when_listing_microloans_then_exact_principal_outstanding_and_next_due(
    sandbox: SandboxServer, phones: list[str], cli_config: Path, run_cli: Any
) -> None:
    loans = sandbox.truth("microloans", phones[0])
    schedules = sandbox.truth("microloan_schedules", phones[0])
    assert loans, "the seeded customer should have a microloan"

    result = run_cli("microloans", "--config", str(cli_config))

    assert result.code == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[2:]}
    for loan in loans:
        line = lines[loan["id"]]
        assert loan["status"] in line
        if loan["principal_minor"] is not None:
            assert f"{minor_to_decimal(loan['principal_minor'], loan['currency'])} {loan['currency']}" in line
            assert f"{loan['annual_rate']}%" in line
        if loan["outstanding_principal_minor"] is not None:
            assert minor_to_decimal(loan["outstanding_principal_minor"], loan["currency"]) in line
        unpaid = sorted(
            (row for row in schedules if row["loan_id"] == loan["id"] and row["status"] != "paid"),
            key=lambda row: row["due_date"],
        )
        if unpaid:
            assert unpaid[0]["due_date"] in line
            assert minor_to_decimal(unpaid[0]["total_minor"], unpaid[0]["currency"]) in line
    assert not _FULL_PAN.search(result.stdout)


def test_given_fx_conversions_when_listing_fx_then_every_conversion_with_exact_amounts_and_masked_cards(
    sandbox: SandboxServer, phones: list[str], cli_config: Path, run_cli: Any
) -> None:
    conversions = sandbox.truth("fx_conversions", phones[0])
    assert {c["buy_currency"] for c in conversions} - {"UZS", "USD", "EUR", "RUB"}, "want FX abroad too"
    cards = {card["card_token"]: card["pan_masked"] for card in sandbox.customers()[0]["cards"]}

    result = run_cli("fx", "--config", str(cli_config))

    assert result.code == 0, result.stderr
    rows = result.stdout.splitlines()[2:]
    assert len(rows) == len(conversions)
    for row, conversion in zip(rows, conversions, strict=True):
        for side in ("sell", "buy"):
            minor, currency = conversion[f"{side}_amount_minor"], conversion[f"{side}_currency"]
            assert f"{minor // 100}.{minor % 100:02d} {currency}" in row
        assert conversion["rate"] in row
        assert cards[conversion["from_card_token"]] in row
    assert "crd_" not in result.stdout
    assert not _FULL_PAN.search(result.stdout)


def test_given_since_when_listing_fx_then_only_later_conversions(
    sandbox: SandboxServer, phones: list[str], cli_config: Path, run_cli: Any
) -> None:
    conversions = sandbox.truth("fx_conversions", phones[0])
    since = conversions[len(conversions) // 2]["occurred_at"][:10]
    expected = [c for c in conversions if c["occurred_at"][:10] >= since]

    result = run_cli("fx", "--config", str(cli_config), "--since", since)

    assert result.code == 0, result.stderr
    assert len(result.stdout.splitlines()[2:]) == len(expected)


def test_given_bad_since_when_listing_fx_then_exit_1_naming_the_option(
    cli_config: Path, run_cli: Any
) -> None:
    result = run_cli("fx", "--config", str(cli_config), "--since", "yesterday")

    assert result.code == 1
    assert "--since 'yesterday'" in result.stderr
