"""Migration 0010: invoices made before it get an invoice date, payment terms and a due date; nothing else changes."""

import datetime
from decimal import Decimal

import pytest

from tests.audit.test_migration import migrate

BEFORE = [("billing", "0009_shared_fees_of_orders_in_flight")]


@pytest.fixture
def schema_restored():
    yield
    migrate()


@pytest.mark.django_db(transaction=True)
def test_invoices_made_before_are_dated_the_day_they_were_made_in_copenhagen(schema_restored, settings):
    settings.INVOICE_PAYMENT_TERMS_DAYS = 30
    old = migrate(BEFORE)
    User = old.get_model("accounts", "User")
    Customer = old.get_model("ordering", "Customer")
    BillingRun = old.get_model("billing", "BillingRun")
    Invoice = old.get_model("billing", "Invoice")
    manager = User.objects.create(username="am", is_staff=True)
    customer = Customer.objects.create(
        name="Aarhus Kommune", cvr="55133018", ean="5798000137004", account_manager=manager
    )
    run = BillingRun.objects.create(period=datetime.date(2026, 10, 1))
    # 23:30 UTC on 31 October is already 1 November in Copenhagen (UTC+1): the invoice date is Copenhagen's.
    made = datetime.datetime(2026, 10, 31, 23, 30, tzinfo=datetime.UTC)
    Invoice.objects.create(
        run=run,
        customer=customer,
        period=run.period,
        number="202610-00001",
        customer_name=customer.name,
        cvr=customer.cvr,
        ean=customer.ean,
        total_excl_vat=Decimal("100.00"),
        vat=Decimal("25.00"),
        total_incl_vat=Decimal("125.00"),
        created_at=made,
    )

    migrate()

    from billing.models import Invoice as Now

    invoice = Now.objects.get(number="202610-00001")
    assert (invoice.issued_on, invoice.payment_terms_days, invoice.due_on) == (
        datetime.date(2026, 11, 1),
        30,
        datetime.date(2026, 12, 1),
    )
    assert (invoice.total_excl_vat, invoice.total_incl_vat) == (Decimal("100.00"), Decimal("125.00"))
