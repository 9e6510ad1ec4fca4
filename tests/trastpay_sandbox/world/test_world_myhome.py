"""My Home as the offer's catalogue: utilities, mobile and internet, taxes and fines, loan repayments,
and autopay (issue 18, item 5)."""

from __future__ import annotations

from datetime import datetime

import pytest

from trastpay_sandbox.world import TASHKENT, SandboxSettings, World
from trastpay_sandbox.world.payments import PROVIDERS

from .conftest import statement_items


@pytest.fixture(scope="module")
def world30() -> World:
    return World(SandboxSettings(seed=7, customers=30, history_days=400))


def test_given_30_customers_when_listing_payments_then_every_service_of_the_catalogue_occurs(
    world30: World,
) -> None:
    services = {p["service"] for c in world30.customers() for p in world30.truth(c.id, "utility_payments")}

    assert services == {provider.service for provider in PROVIDERS}


def test_given_payments_when_checked_against_their_provider_then_amounts_and_mcc_fit(world30: World) -> None:
    by_code = {provider.code: provider for provider in PROVIDERS}
    checked = 0
    for customer in world30.customers()[:8]:
        lines = {
            item["id"]: item
            for token in customer.card_tokens
            for item in statement_items(world30, customer.id, token)
        }
        for payment in world30.truth(customer.id, "utility_payments"):
            provider = by_code[payment["provider_code"]]
            low, high = provider.bill_soum
            assert low * 100 <= payment["amount_minor"] < high * 100
            assert payment["service"] == provider.service
            line = lines[f"tx_{payment['id']}"]
            assert line["mcc"] == provider.mcc
            assert line["type"] == ("loan_repayment" if provider.service == "loan_repayment" else "utility")
            checked += 1
    assert checked > 50


def test_given_autopay_invoices_when_their_payments_are_read_then_paid_by_autopay_on_the_set_day(
    world30: World,
) -> None:
    autopaid = 0
    for customer in world30.customers():
        invoices = {i["id"]: i for i in world30.saved_invoices(customer.id)}
        for payment in world30.truth(customer.id, "utility_payments"):
            invoice = invoices[payment["saved_invoice_id"]]
            assert payment["initiated_by"] == ("autopay" if invoice["autopay"] else "customer")
            if invoice["autopay"]:
                assert invoice["service"] in ("mobile", "internet", "loan_repayment")
                created = datetime.fromisoformat(payment["created_at"]).astimezone(TASHKENT)
                assert created.day == invoice["autopay_day"]
                autopaid += 1
    assert autopaid > 20
