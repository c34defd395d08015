"""Money on the pages: quotes, the account manager's tools, invoices, licences and runs, tenants apart."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing import services as billing
from billing.models import Charge, Invoice, QuoteAdjustment, RecurringFee, StartupPackage
from ordering.models import AccessOrder
from tests.pages import order_page_text, post_action

D = Decimal


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def form_preview(client, cast, *, system, codes, **fields) -> str:
    """The new order form's live preview as orderer A sees it: customer A, `system`, single interfaces `codes`."""
    return get(
        client,
        cast.orderer_a,
        reverse("ordering:order_form_preview"),
        customer=cast.customer_a.pk,
        external_system=system.pk,
        purchase_model="single",
        interfaces=[cast.interfaces[code].pk for code in codes],
        **fields,
    ).content.decode()


def test_the_new_order_form_explains_the_price_as_the_user_chooses(cast, client):
    body = form_preview(client, cast, system=cast.rostering, codes=("opret-fravaer", "moedetidsplaner"), reason="new")
    assert "Ingen licensstart: Opret Fravær er omfattet af jeres kontrakt for alle systemer." in body
    assert "10.000,00 kr." in body and "3.100,00 kr." in body and "5.000,00 kr." in body
    assert "15.000,00 kr." in body  # one-time total excl. VAT


def test_phase_out_in_the_form_waives_the_setup_fee(cast, client):
    body = form_preview(client, cast, system=cast.canteen, codes=("engangsydelser",), reason="phase_out")
    assert "Intet opsætningsvederlag" in body


def test_the_order_page_shows_a_preliminary_then_a_frozen_quote(cast, order_in, client):
    order = order_in("submitted", codes=("moedetidsplaner",))
    body = get(client, cast.orderer_a, reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "Foreløbigt tilbud" in body and "10.000,00 kr." in body
    from ordering import services

    services.order_issue_addendum(order=order, actor=cast.am_a)
    body = get(client, cast.orderer_a, reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "Prisen som fastlagt" in body


def test_the_account_manager_adds_a_discount_from_the_order_page(cast, order_in, client):
    order = order_in("submitted")
    client.force_login(cast.am_a)
    url = reverse("billing:quote_adjust", args=[order.pk])
    client.post(url, {"kind": "one_time", "amount": "-1.250,50", "reason": "Samlet bestilling"})
    assert QuoteAdjustment.objects.get().amount == D("-1250.50")
    client.force_login(cast.orderer_a)
    client.post(url, {"kind": "one_time", "amount": "-99999", "reason": "Selvbetjening"})
    assert QuoteAdjustment.objects.count() == 1


def test_closing_from_the_page_ends_only_the_licences_left_ticked(cast, order_in, client):
    order = order_in("active", codes=("moedetidsplaner", "medarbejderoplysninger"))
    licences = {f.interface.code: f for f in RecurringFee.objects.filter(order=order)}
    page = order_page_text(client, cast.am_a, order)
    assert f'name="end_licence" value="{licences["moedetidsplaner"].pk}" checked' in page
    closing = {
        "expected_state": "active",
        "on": datetime.date.today().isoformat(),
        "licence_choice": "1",
        "end_licence": [licences["moedetidsplaner"].pk],
        "confirmed": "1",
    }
    post_action(client, cast.am_a, order, "close", closing)
    assert AccessOrder.objects.get(pk=order.pk).state == "closed"
    licences = {f.interface.code: f for f in RecurringFee.objects.filter(order=order)}
    assert licences["moedetidsplaner"].ends_on is not None and licences["medarbejderoplysninger"].ends_on is None


def test_consulting_hours_from_the_page(cast, order_in, client):
    order = order_in("active")
    client.force_login(cast.am_a)
    client.post(
        reverse("billing:consulting", args=[order.pk]),
        {"on": order.activated_on.isoformat(), "hours": "1,5", "description": "Møde"},
    )
    assert Charge.objects.get(kind="consulting").amount == D("2250.00")


@pytest.fixture
def billed(cast, order_in):
    order_in("active", purchase_model="package", package=cast.package, codes=())
    order_in("active", customer=cast.customer_b, system=cast.canteen, codes=("engangsydelser",))
    billing.billing_run(period=datetime.date.today().replace(day=1), force=True)
    return {i.customer_id: i for i in Invoice.objects.all()}


def test_customers_see_their_own_invoices_and_licences_only(cast, billed, client):
    mine, theirs = billed[cast.customer_a.pk], billed[cast.customer_b.pk]
    body = get(client, cast.orderer_a, reverse("billing:invoice_list")).content.decode()
    assert mine.number in body and theirs.number not in body
    assert get(client, cast.orderer_a, reverse("billing:invoice_detail", args=[theirs.pk])).status_code == 404
    detail = get(client, cast.signatory_a, reverse("billing:invoice_detail", args=[mine.pk])).content.decode()
    from billing.pricing import kroner

    assert mine.ean in detail and kroner(mine.lines.get(kind="recurring").amount) in detail
    licences = get(client, cast.orderer_b, reverse("billing:licence_list")).content.decode()
    assert "Engangsydelser" in licences and "Aarhus" not in licences


@pytest.mark.parametrize(
    ("person", "sees_a", "sees_b"), [("am_a", True, False), ("am_b", False, True), ("support", True, True)]
)
def test_kmd_sees_the_invoices_of_the_customers_it_serves(cast, billed, client, person, sees_a, sees_b):
    body = get(client, getattr(cast, person), reverse("billing:invoice_list")).content.decode()
    assert (billed[cast.customer_a.pk].number in body) is sees_a
    assert (billed[cast.customer_b.pk].number in body) is sees_b


def test_the_run_export_is_csv_of_the_users_customers_only(cast, billed, client):
    run = billed[cast.customer_a.pk].run
    response = get(client, cast.am_a, reverse("billing:run_export", args=[run.pk]))
    assert response["Content-Disposition"].startswith("attachment;")
    text = response.content.decode("utf-8-sig")
    assert billed[cast.customer_a.pk].number in text and billed[cast.customer_b.pk].number not in text
    assert text.splitlines()[0].startswith("Faktura;Kunde;CVR-nummer;EAN-nummer")
    assert get(client, cast.orderer_a, reverse("billing:run_export", args=[run.pk])).status_code == 404
    assert get(client, cast.orderer_a, reverse("billing:run_list")).status_code == 403
    assert run.period.strftime("%Y") in get(client, cast.support, reverse("billing:run_list")).content.decode()


@pytest.mark.parametrize(
    ("language", "header", "kind", "description"),
    [
        (
            "da",
            "Faktura;Kunde;CVR-nummer;EAN-nummer;Referenceperson;Bestilling;Rekvisitionsnummer;Type;Beskrivelse;"
            "Beløb ekskl. moms",
            "Løbende vederlag",
            "description_da",
        ),
        (
            "en",
            "Invoice;Customer;CVR number;EAN number;Reference person;Order;Requisition number;Kind;Description;"
            "Amount excl. VAT",
            "Monthly fee",
            "description_en",
        ),
    ],
)
def test_the_run_export_speaks_the_readers_language(cast, billed, client, language, header, kind, description):
    invoice = billed[cast.customer_a.pk]
    client.cookies["django_language"] = language
    response = get(client, cast.am_a, reverse("billing:run_export", args=[invoice.run.pk]))
    text = response.content.decode("utf-8-sig")
    assert text.splitlines()[0] == header
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
    line = invoice.lines.get(kind="recurring")
    assert [kind, getattr(line, description)] in [row[7:9] for row in rows]
    assert response["Content-Disposition"] == f'attachment; filename="fakturering-{invoice.run.period:%Y-%m}.csv"'


def test_customer_text_cannot_become_a_spreadsheet_formula(cast, order_in, client):
    from core.exports import spreadsheet_text

    assert spreadsheet_text('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert spreadsheet_text("Opsætning") == "Opsætning"


@pytest.mark.parametrize("who", ["orderer_a", "am_a"])
def test_the_invoice_list_costs_the_same_queries_for_few_and_many(cast, client, who):
    from billing.models import BillingRun

    def make(n, start):
        run = BillingRun.objects.create(period=datetime.date(2000 + start, 1, 1))
        Invoice.objects.bulk_create(
            [
                Invoice(
                    run=run,
                    customer=cast.customer_a,
                    period=datetime.date(2000 + start + i, 1, 1),
                    number=f"X{start}-{i}",
                    customer_name="Aarhus Kommune",
                    cvr="55133018",
                    ean="5798000137004",
                    total_excl_vat=D("1"),
                    vat=D("0.25"),
                    total_incl_vat=D("1.25"),
                )
                for i in range(n)
            ]
        )

    client.force_login(getattr(cast, who))
    make(5, 0)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("billing:invoice_list"))
    make(200, 100)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("billing:invoice_list"))
    assert len(few.captured_queries) == len(many.captured_queries)


@pytest.mark.parametrize("person", ["orderer_b", "am_b", "outsider"])
def test_other_customers_get_404_on_every_money_action(cast, order_in, client, person):
    order = order_in("active", purchase_model="package", package=cast.package, codes=())
    fee = RecurringFee.objects.get(order=order)
    client.force_login(getattr(cast, person))
    for url, data in [
        (reverse("billing:quote_adjust", args=[order.pk]), {"kind": "one_time", "amount": "-1", "reason": "x"}),
        (reverse("billing:consulting", args=[order.pk]), {"on": "2026-03-01", "hours": "1", "description": "x"}),
        (reverse("billing:startup_usage", args=[order.pk]), {"meetings": "1", "qa_hours": "1"}),
        (reverse("billing:licence_end", args=[order.pk, fee.pk]), {}),
    ]:
        assert client.post(url, data).status_code == 404, url
    assert not QuoteAdjustment.objects.exists() and not Charge.objects.filter(kind="consulting").exists()


def test_a_refused_money_form_shows_the_order_page_again_with_what_was_typed(cast, individual_order, client):
    """The service refuses (the startup package is used up): the account manager sees why, and the form they
    filled in with their numbers kept, rather than losing them to a redirect; nothing is recorded."""
    order = individual_order("active", startup_package=True)
    StartupPackage.objects.filter(order=order).update(meetings_used=StartupPackage.MEETINGS_USED_MAX)
    client.force_login(cast.am_a)
    response = client.post(reverse("billing:startup_usage", args=[order.pk]), {"meetings": "7", "qa_hours": "0"})
    assert response.status_code == 400  # as for a form with errors
    body = response.content.decode()
    assert "Det er langt mere, end opstartspakken omfatter" in body
    assert 'id="su-meetings"' in body and 'value="7"' in body
    assert StartupPackage.objects.get(order=order).meetings_used == StartupPackage.MEETINGS_USED_MAX


def test_the_startup_package_is_read_only_for_an_order_that_bought_it(cast, individual_order, client):
    """Activation records a startup package only for an order that bought one (billing.services), so the page of an
    order without it does not ask for one."""
    bought = individual_order("active", startup_package=True)
    not_bought = individual_order("active", codes=("moedetidsplaner",))
    for order, shown in ((bought, True), (not_bought, False)):
        with CaptureQueriesContext(connection) as queries:
            page = order_page_text(client, cast.am_a, order)
        reads = [q["sql"] for q in queries if 'FROM "billing_startuppackage"' in q["sql"]]
        assert len(reads) == (1 if shown else 0), order
        assert ("Brugte møder: 0 af 3" in page) is shown


def test_the_licence_list_shows_a_page_at_a_time(cast, order_in, client, monkeypatch):
    """Issue 23: across an account manager's customers the licences are many; a page of them at a time, by customer
    and interface, so the page costs the same whatever the data."""
    from billing import views

    order_in("active", codes=("opret-fravaer", "medarbejderoplysninger", "moedetidsplaner"))
    licences = RecurringFee.objects.filter(kind=RecurringFee.Kind.LICENCE, ends_on__isnull=True).count()
    assert licences >= 2
    url = reverse("billing:licence_list")

    def rows(body: str) -> int:
        return body.count('<tr><td data-label="')

    monkeypatch.setattr(views, "LICENCES_SHOWN", licences - 1)
    first = get(client, cast.am_a, url).content.decode()
    assert rows(first) == licences - 1 and '?page=2"' in first
    assert rows(get(client, cast.am_a, url, page=2).content.decode()) == 1
    monkeypatch.setattr(views, "LICENCES_SHOWN", licences)  # exactly one page
    whole = get(client, cast.am_a, url).content.decode()
    assert rows(whole) == licences and "?page=2" not in whole
