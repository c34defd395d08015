"""Charges and fees from the lifecycle, proration, and the monthly billing run."""

import datetime
import random
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from billing import services as billing
from billing.models import Charge, Invoice, InvoiceLine, RecurringFee
from billing.quotes import frozen_quote
from billing.selectors import licences_only_this_access_uses
from ordering import services
from tests.billing.builders import package_fee
from tests.conftest import accept_rendered, make_order

D = Decimal
day = datetime.date


def fee(cast, *, start, end=None, monthly="3100.00", order=None, customer=None):
    return package_fee(order or make_order(cast, "draft"), start=start, end=end, monthly=monthly, customer=customer)


def lines_for(period):
    return list(InvoiceLine.objects.filter(invoice__period=period).order_by("pk"))


# --- Proration ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "month", "days", "amount"),
    [
        (day(2026, 3, 16), None, day(2026, 3, 1), 16, "1600.00"),  # activation mid-month: 3100 × 16/31
        (day(2026, 1, 10), day(2026, 3, 1), day(2026, 3, 1), 0, None),  # closed on the 1st: nothing in March
        (day(2026, 1, 10), day(2026, 3, 1), day(2026, 2, 1), 28, "3100.00"),  # ... all of February
        (day(2026, 3, 5), day(2026, 3, 5), day(2026, 3, 1), 0, None),  # opened and closed the same day
        (day(2028, 2, 1), None, day(2028, 2, 1), 29, "3100.00"),  # February in a leap year, whole month
        (day(2028, 2, 15), None, day(2028, 2, 1), 15, "1603.45"),  # 3100 × 15/29 = 1603.448…
        (day(2026, 1, 1), day(2026, 3, 18), day(2026, 3, 1), 17, "1700.00"),  # (emergency) closure mid-month
    ],
)
def test_monthly_fees_are_prorated_by_active_days(cast, start, end, month, days, amount):
    f = fee(cast, start=start, end=end)
    billing.billing_run(period=month, force=True)  # 2028 has not ended
    lines = [line for line in lines_for(month) if line.service_month == month]
    if amount is None:
        assert lines == []
    else:
        (line,) = lines
        assert (line.days, line.amount) == (days, D(amount))
        assert line.recurring_fee == f


def test_running_the_same_month_twice_bills_nothing_twice(cast):
    fee(cast, start=day(2026, 2, 10))
    order = make_order(cast, "draft", system=cast.canteen, codes=("engangsydelser",))
    Charge.objects.create(
        customer=cast.customer_a,
        order=order,
        kind="one_time",
        rule="setup_fee",
        description_da="Opsætning",
        description_en="Setup",
        amount=D("5000.00"),
        booked_on=day(2026, 3, 2),
        recorded_by=cast.am_a,
    )
    billing.billing_run(period=day(2026, 3, 1))
    snapshot = list(InvoiceLine.objects.values_list("source_key", "amount"))
    totals = list(Invoice.objects.values_list("number", "total_excl_vat", "vat", "total_incl_vat"))
    billing.billing_run(period=day(2026, 3, 1))
    assert list(InvoiceLine.objects.values_list("source_key", "amount")) == snapshot
    assert list(Invoice.objects.values_list("number", "total_excl_vat", "vat", "total_incl_vat")) == totals
    # The fee started in February, which was never run: March's invoice catches it up once.
    assert sorted(k for k, _ in snapshot) == sorted(
        [f"charge:{Charge.objects.get().pk}", *(f"fee:{RecurringFee.objects.get().pk}:2026-0{m}" for m in (2, 3))]
    )


def test_no_line_is_billed_after_a_closure_date(cast):
    f = fee(cast, start=day(2026, 1, 1), end=day(2026, 2, 14))
    for month in range(1, 6):
        billing.billing_run(period=day(2026, month, 1))
    months = list(
        InvoiceLine.objects.filter(recurring_fee=f).order_by("service_month").values_list("service_month", "days")
    )
    assert months == [(day(2026, 1, 1), 31), (day(2026, 2, 1), 13)]


def test_a_retroactive_closure_is_credited_on_the_next_invoice(cast):
    f = fee(cast, start=day(2026, 1, 1))
    billing.billing_run(period=day(2026, 3, 1))  # bills January to March in full
    f.ends_on = day(2026, 2, 15)
    f.save()
    billing.billing_run(period=day(2026, 4, 1))
    credits = InvoiceLine.objects.filter(invoice__period=day(2026, 4, 1), kind="correction").order_by("service_month")
    assert [(c.service_month, c.amount) for c in credits] == [
        (day(2026, 2, 1), D("1550.00") - D("3100.00")),  # 14 of 28 days
        (day(2026, 3, 1), D("-3100.00")),
    ]
    march_invoice = Invoice.objects.get(period=day(2026, 3, 1))
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do: final invoices never change
        march_invoice.save()
    billing.billing_run(period=day(2026, 5, 1))
    assert InvoiceLine.objects.filter(kind="correction").count() == 2  # never credited twice


def test_invoices_carry_the_public_e_invoicing_facts(cast):
    cast.customer_a.invoice_reference_person = "Lønkontoret, att. Bente"
    cast.customer_a.save()
    order = make_order(cast, "draft", requisition_number="REK-2026-17")
    fee(cast, start=day(2026, 3, 1), order=order)
    billing.billing_run(period=day(2026, 3, 1))
    invoice = Invoice.objects.get()
    assert (invoice.ean, invoice.cvr, invoice.reference_person) == (
        cast.customer_a.ean,
        cast.customer_a.cvr,
        "Lønkontoret, att. Bente",
    )
    assert invoice.number == f"202603-{cast.customer_a.pk:05d}"
    assert invoice.lines.get().requisition_number == "REK-2026-17"


def test_line_sums_equal_invoice_totals_to_the_ore_on_generated_data(cast):
    rng = random.Random(2026)
    orders = [make_order(cast, "draft", customer=rng.choice([cast.customer_a, cast.customer_b])) for _ in range(10)]
    fees = []
    for i in range(300):
        order = rng.choice(orders)
        start = day(2026, 1, 1) + datetime.timedelta(days=rng.randrange(0, 150))
        end = start + datetime.timedelta(days=rng.randrange(0, 200)) if rng.random() < 0.5 else None
        fees.append(
            RecurringFee(
                customer=order.customer,
                order=order,
                kind="package",
                description_da=f"Gebyr {i}",
                description_en=f"Fee {i}",
                monthly_fee=D(rng.randrange(1, 1_000_000)) / 100,
                starts_on=start,
                ends_on=end,
            )
        )
    RecurringFee.objects.bulk_create(fees)
    for month in range(1, 8):
        billing.billing_run(period=day(2026, month, 1))
    invoices = Invoice.objects.all()
    assert invoices.count() >= 12
    for invoice in invoices:
        assert invoice.lines.aggregate(s=Sum("amount"))["s"] == invoice.total_excl_vat
        assert invoice.vat == (invoice.total_excl_vat * D("0.25")).quantize(D("0.01"), rounding="ROUND_HALF_UP")
        assert invoice.total_incl_vat == invoice.total_excl_vat + invoice.vat


# --- From the lifecycle ------------------------------------------------------------------------


def test_activation_books_one_time_charges_and_starts_licences(cast, order_in):
    order = order_in("active", codes=("opret-fravaer", "moedetidsplaner"))
    charges = {c.rule: c.amount for c in Charge.objects.filter(order=order)}
    # Opret Fravær is in the contract for all systems; Mødetidsplaner is not.
    assert charges == {"licence_start": D("10000.00"), "setup_fee": D("5000.00")}
    assert all(c.booked_on == order.activated_on for c in Charge.objects.all())
    (licence,) = RecurringFee.objects.filter(order=order)
    assert (licence.kind, licence.interface.code, licence.monthly_fee, licence.starts_on) == (
        "licence",
        "moedetidsplaner",
        D("3100.00"),
        order.activated_on,
    )


def test_a_package_order_starts_its_package_fee(cast, order_in):
    order = order_in("active", purchase_model="package", package=cast.package, codes=())
    (package_fee,) = RecurringFee.objects.filter(order=order)
    assert (package_fee.kind, package_fee.monthly_fee) == ("package", D("6200.00"))
    assert not Charge.objects.filter(order=order, rule="licence_start").exists()


def test_the_frozen_quote_is_billed_even_if_prices_change_later(cast, order_in):
    from tests.conftest import make_price_list

    order = order_in("awaiting_signature", codes=("moedetidsplaner",))
    newer = make_price_list(cast.interfaces, [cast.package], effective_from=day(2024, 1, 1), name="Dyrere")
    newer.interface_prices.update(licence_start_fee=D("99999.00"))
    order = accept_rendered(order=order, actor=cast.signatory_a)
    services.order_activate(order=order, actor=cast.am_a)
    assert Charge.objects.get(order=order, rule="licence_start").amount == D("10000.00")


def test_a_used_price_list_cannot_be_edited(cast, order_in):
    from django.core.exceptions import ValidationError

    order_in("awaiting_signature")
    cast.price_list.refresh_from_db()
    assert cast.price_list.is_used
    cast.price_list.setup_fee = D("1.00")
    with pytest.raises(ValidationError):
        cast.price_list.save()


def test_closing_stops_the_package_fee_and_ends_unused_licences_by_default(cast, order_in):
    package_order = order_in("active", purchase_model="package", package=cast.package, codes=())
    single = order_in("active", system=cast.canteen, codes=("engangsydelser",))
    services.order_close(order=package_order, actor=cast.am_a)
    services.order_close(order=single, actor=cast.am_a)
    assert all(f.ends_on is not None for f in RecurringFee.objects.all())


def test_the_account_manager_may_keep_a_licence_when_closing(cast, order_in):
    single = order_in("active", system=cast.canteen, codes=("engangsydelser",))
    services.order_close(order=single, actor=cast.am_a, end_licence_ids=[])
    assert RecurringFee.objects.get(order=single).ends_on is None


def test_a_licence_another_access_still_uses_is_not_offered_for_ending(cast, order_in):
    first = order_in("active", system=cast.canteen, codes=("engangsydelser",))
    second = order_in("active", system=cast.canteen, codes=("engangsydelser",), environment="test")  # same licence
    assert RecurringFee.objects.filter(kind="licence").count() == 1
    assert licences_only_this_access_uses(first) == []
    services.order_close(order=first, actor=cast.am_a)
    assert RecurringFee.objects.get(kind="licence").ends_on is None
    assert [f.interface.code for f in licences_only_this_access_uses(second)] == ["engangsydelser"]


def test_emergency_closure_stops_the_package_fee_at_once_and_keeps_licences(cast, order_in):
    package_order = order_in("active", purchase_model="package", package=cast.package, codes=())
    single = order_in("active", system=cast.canteen, codes=("engangsydelser",))
    services.order_emergency_close(order=package_order, actor=cast.support, reason="Brud")
    services.order_emergency_close(order=single, actor=cast.support, reason="Brud")
    assert RecurringFee.objects.get(order=package_order).ends_on == package_order.activated_on
    licence = RecurringFee.objects.get(order=single)
    assert licence.ends_on is None
    billing.licence_end(fee=licence, actor=cast.am_a)
    licence.refresh_from_db()
    assert licence.ends_on is not None


def test_consulting_hours_are_billed_at_the_hourly_rate(cast, order_in):
    order = order_in("active")
    charge = billing.consulting_record(
        order=order, actor=cast.am_a, on=order.activated_on, hours=D("2.5"), description="Sparring om fravær"
    )
    assert charge.amount == D("3750.00")
    with pytest.raises(billing.BillingError):
        billing.consulting_record(
            order=order, actor=cast.orderer_a, on=order.activated_on, hours=D("1"), description="x"
        )
    billing.billing_run(period=order.activated_on.replace(day=1), force=True)  # this month
    line = InvoiceLine.objects.get(charge=charge)
    assert line.kind == "consulting" and line.amount == D("3750.00")


def test_startup_package_use_warns_when_exceeded(cast, individual_order):
    order = individual_order("active", startup_package=True)
    usage = billing.startup_usage_record(order=order, actor=cast.am_a, meetings=3, qa_hours=D("4"))
    assert not usage.meetings_exceeded and not usage.qa_hours_exceeded
    usage = billing.startup_usage_record(order=order, actor=cast.am_a, meetings=1, qa_hours=D("0.5"))
    assert usage.meetings_exceeded and usage.qa_hours_exceeded


def test_the_account_manager_adjusts_the_quote_before_issuing(cast, order_in):
    order = order_in("submitted", codes=("moedetidsplaner",))
    billing.quote_adjustment_add(order=order, actor=cast.am_a, kind="one_time", amount=D("-1000"), reason="Rabat")
    with pytest.raises(billing.BillingError):
        billing.quote_adjustment_add(order=order, actor=cast.orderer_a, kind="one_time", amount=D("-1"), reason="x")
    order = services.order_issue_addendum(order=order, actor=cast.am_a)
    frozen = frozen_quote(order)
    assert ("adjustment", D("-1000.00")) in [(line.rule, line.amount) for line in frozen.lines]
    billing.quote_adjustment_add(order=order, actor=cast.am_a, kind="one_time", amount=D("-500"), reason="Mere")
    assert ("adjustment", D("-500.00")) not in [(x.rule, x.amount) for x in frozen_quote(order).lines]
    order = services.order_revise(order=order, actor=cast.am_a, comment="Ekstra rabat")
    assert ("adjustment", D("-500.00")) in [(x.rule, x.amount) for x in frozen_quote(order).lines]
    order = accept_rendered(order=order, actor=cast.signatory_a)
    with pytest.raises(billing.BillingError):
        billing.quote_adjustment_add(order=order, actor=cast.am_a, kind="one_time", amount=D("-1"), reason="Sent")


def test_run_billing_command_prints_json(cast, capsys):
    import json

    fee(cast, start=day(2026, 3, 1))
    fee(cast, start=day(2026, 3, 1), monthly="100.00")
    call_command("run_billing", "--period", "2026-03", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report == {"period": "2026-03", "runs": 1, "invoices": 1, "lines": 2, "total_excl_vat": "3200.00"}


def test_the_billing_run_costs_the_same_queries_for_few_and_many_lines(cast):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def run_with(n, year):
        orders = [make_order(cast, "draft", customer=c) for c in (cast.customer_a, cast.customer_b)]
        RecurringFee.objects.bulk_create(
            [
                RecurringFee(
                    customer=orders[i % 2].customer,
                    order=orders[i % 2],
                    kind="package",
                    description_da="x",
                    description_en="x",
                    monthly_fee=D("100.00"),
                    starts_on=day(year, 1, 1),
                    ends_on=day(year, 3, 1),
                )
                for i in range(n)
            ]
        )
        with CaptureQueriesContext(connection) as queries:
            billing.billing_run(period=day(year, 2, 1), force=True)
        # SQLite allows 999 parameters a statement, so Django splits a large bulk insert into batches;
        # PostgreSQL takes it whole. Everything else must be the same however many lines there are.
        counted = [
            q
            for q in queries.captured_queries
            if connection.vendor == "postgresql" or not q["sql"].startswith("INSERT")
        ]
        return len(counted), InvoiceLine.objects.filter(invoice__period=day(year, 2, 1)).count()

    few_queries, few_lines = run_with(5, 2030)
    many_queries, many_lines = run_with(400, 2040)
    assert many_lines > few_lines * 10
    assert many_queries == few_queries


def test_a_run_reads_only_the_fees_it_bills_not_the_months_and_lines_behind_them(cast, monkeypatch):
    order = make_order(cast, "draft")
    for _ in range(5):
        fee(cast, start=day(2026, 1, 1), end=day(2026, 2, 1), order=order)  # billed in January, then over
    running = fee(cast, start=day(2026, 1, 1), order=order)
    retroactively_ended = fee(cast, start=day(2026, 1, 1), order=order)
    for month in range(1, 5):
        billing.billing_run(period=day(2026, month, 1))
    RecurringFee.objects.filter(pk=retroactively_ended.pk).update(ends_on=day(2026, 3, 10))

    loaded = []

    def count_loads(model):
        from_db = model.from_db.__func__

        def counted(cls, db, field_names, values):
            loaded.append(cls.__name__)
            return from_db(cls, db, field_names, values)

        monkeypatch.setattr(model, "from_db", classmethod(counted))

    count_loads(RecurringFee)
    count_loads(InvoiceLine)
    billing.billing_run(period=day(2026, 5, 1))
    # The running fee, and the March and April lines of the fee ended back in March (to credit them).
    assert sorted(loaded) == ["InvoiceLine", "InvoiceLine", "RecurringFee", "RecurringFee", "RecurringFee"]
    may = InvoiceLine.objects.filter(invoice__period=day(2026, 5, 1))
    assert sorted(may.values_list("recurring_fee", "kind")) == [
        (running.pk, "recurring"),
        (retroactively_ended.pk, "correction"),
        (retroactively_ended.pk, "correction"),
    ]
    loaded.clear()
    billing.billing_run(period=day(2026, 6, 1))
    assert loaded == ["RecurringFee"]  # credited once; from now on only the running fee is read


def test_the_admin_can_edit_an_unused_price_list_but_only_read_a_used_one(cast, order_in, client):
    from django.urls import reverse

    from tests.conftest import make_user

    admin_user = make_user("price_admin", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    url = reverse("admin:billing_pricelist_change", args=[cast.price_list.pk])
    page = client.get(url).content.decode()
    assert 'name="_save"' in page
    order_in("awaiting_signature")
    page = client.get(url).content.decode()
    assert 'name="_save"' not in page
    assert client.post(url, {"name": "x"}).status_code == 403
