from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import pytest

from trastpay_sandbox.world import TASHKENT, World

from .conftest import statement_items


def _bookings(items: list[dict[str, object]]) -> list[tuple[str, int, int]]:
    """``(booked_at, delta, commission)`` exactly as the statements schema describes the ledger."""
    out = []
    for item in items:
        amount, commission = int(item["amount_minor"]), int(item["commission_minor"])  # type: ignore[call-overload]
        if item["posted_at"] is not None:
            out.append((str(item["posted_at"]), amount - commission, commission))
            if item["reversed_at"] is not None:
                out.append((str(item["reversed_at"]), commission - amount, -commission))
    return out


def test_given_statements_when_chained_then_balances_agree_with_transactions_and_card_balance(
    world: World,
) -> None:
    checked = 0
    for customer in world.customers():
        balances = {c["card_token"]: c["balance_minor"] for c in world.cards(customer.id)}
        for token in customer.card_tokens:
            statements = list(world.list_page(customer.id, "statements", parent_id=token, limit=1000)[0])
            by_month: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
            for booked_at, delta, commission in _bookings(statement_items(world, customer.id, token)):
                month = booked_at[:7]
                by_month[month][0 if delta < 0 else 1] += abs(delta)
                by_month[month][2] += commission
                by_month[month][3] += 1
            previous = None
            for statement in statements:
                if previous is not None:
                    assert statement["opening_balance_minor"] == previous["closing_balance_minor"]
                    assert statement["period_start"] == previous["period_end"]
                assert statement["closing_balance_minor"] == (
                    statement["opening_balance_minor"]
                    + statement["credit_total_minor"]
                    - statement["debit_total_minor"]
                )
                debit, credit, commission, count = by_month[statement["month"]]
                assert (statement["debit_total_minor"], statement["credit_total_minor"]) == (debit, credit)
                assert (statement["commission_total_minor"], statement["entry_count"]) == (commission, count)
                previous = statement
                checked += 1
            assert previous is not None
            assert previous["closing_balance_minor"] == balances[token]
            assert previous["is_final"] is False
            assert all(s["is_final"] for s in statements[:-1])
    assert checked > 50


def test_given_export_of_a_month_when_totalled_then_it_matches_that_months_statement(world: World) -> None:
    customer = world.customers()[1]
    for token in customer.card_tokens:
        statements = {
            s["month"]: s for s in world.list_page(customer.id, "statements", parent_id=token, limit=100)[0]
        }
        export = world.statement_export(customer.id, token, date(2026, 9, 1), date(2026, 9, 30))
        september = statements["2026-09"]
        assert export.opening_balance_minor == september["opening_balance_minor"]
        assert export.closing_balance_minor == september["closing_balance_minor"]
        assert export.debit_total_minor == september["debit_total_minor"]
        assert export.credit_total_minor == september["credit_total_minor"]
        assert len(export.entries) == september["entry_count"]
        assert export.card["card_token"] == token
        assert export.currency == export.card["currency"]


def test_given_export_over_any_days_when_walking_entries_then_running_balance_is_consistent(
    world: World,
) -> None:
    customer = world.customers()[3]
    token = customer.card_tokens[0]
    export = world.statement_export(customer.id, token, date(2026, 8, 17), date(2026, 11, 1))
    balance = export.opening_balance_minor
    assert export.entries
    for entry in export.entries:
        balance += entry["amount_minor"]
        assert entry["balance_after_minor"] == balance
        booked = datetime.fromisoformat(entry["booked_at"])
        assert datetime(2026, 8, 17, tzinfo=TASHKENT) <= booked <= world.now()
    assert balance == export.closing_balance_minor
    assert export.closing_balance_minor == (
        export.opening_balance_minor + export.credit_total_minor - export.debit_total_minor
    )
    card = next(c for c in world.cards(customer.id) if c["card_token"] == token)
    assert export.closing_balance_minor == card["balance_minor"]
    booked_at = [e["booked_at"] for e in export.entries]
    assert booked_at == sorted(booked_at)


def test_given_bad_export_request_when_called_then_clear_errors(world: World) -> None:
    customer, other = world.customers()[0], world.customers()[1]
    with pytest.raises(ValueError, match="before"):
        world.statement_export(customer.id, customer.card_tokens[0], date(2026, 9, 2), date(2026, 9, 1))
    with pytest.raises(KeyError, match="not a card of customer"):
        world.statement_export(customer.id, other.card_tokens[0], date(2026, 9, 1), date(2026, 9, 2))


def test_given_microloans_when_reading_schedules_then_annuity_principal_sums_exactly(world: World) -> None:
    loans = 0
    for customer in world.customers():
        for loan in world.truth(customer.id, "microloans"):
            if loan["principal_minor"] is None:
                assert loan["status"] in ("submitted", "rejected")
                assert loan["decision_code"] != "APPROVED"
                continue
            rows, _ = world.list_page(customer.id, "microloan_schedules", parent_id=loan["id"], limit=100)
            rows.sort(key=lambda r: r["instalment_number"])
            assert [r["instalment_number"] for r in rows] == list(range(1, loan["term_months"] + 1))
            assert sum(r["principal_minor"] for r in rows) == loan["principal_minor"]
            assert loan["annual_rate"] in ("28.00", "29.00", "30.00")
            assert loan["principal_minor"] <= 50_000_000_00
            totals = [r["total_minor"] for r in rows[:-1]]
            assert max(totals) - min(totals) <= 1
            repayments, _ = world.list_page(
                customer.id, "microloan_repayments", parent_id=loan["id"], limit=100
            )
            paid = sum(r["principal_minor"] for r in repayments)
            assert loan["outstanding_principal_minor"] == loan["principal_minor"] - paid
            loans += 1
    assert loans >= 1


def test_given_deposits_when_reading_operations_then_balances_chain_and_stay_above_minimum(
    world: World,
) -> None:
    deposits = 0
    for customer in world.customers():
        for deposit in world.truth(customer.id, "deposits"):
            ops, _ = world.list_page(customer.id, "deposit_operations", parent_id=deposit["id"], limit=1000)
            balance = 0
            for op in ops:
                balance += op["amount_minor"]
                assert op["balance_after_minor"] == balance
                if op["type"] != "closure":
                    assert balance >= deposit["minimum_balance_minor"]
            assert balance == deposit["balance_minor"]
            assert deposit["interest_paid_minor"] == sum(
                o["amount_minor"] for o in ops if o["type"] == "interest"
            )
            deposits += 1
    assert deposits >= 1


def test_given_holds_that_expire_unposted_when_cashback_is_read_then_every_reversal_reverses_an_accrual(
    world: World,
) -> None:
    accrued: set[str] = set()
    reversals: list[dict[str, object]] = []
    for customer in world.customers():
        for entry in world.truth(customer.id, "cashback_ledger"):
            if entry["type"] == "accrual":
                accrued.add(str(entry["source_transaction_id"]))
            else:
                reversals.append(entry)
    assert reversals, "the default world has cashback reversals to check"
    orphans = [e["id"] for e in reversals if e["source_transaction_id"] not in accrued]
    assert not orphans, f"cashback reversals without an accrual: {orphans}"
