"""Invoices a municipality can book: dates and terms, a tagged PDF/A, lines linked to their orders, filters, exports."""

import csv
import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from pypdf import PdfReader

from billing import services as billing
from billing.models import Invoice
from tests.billing.builders import package_fee
from tests.conftest import make_order
from tests.pdf import structure_kinds

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
day = datetime.date


@pytest.fixture
def billed(cast, monkeypatch):
    """October and November 2026 billed on 2 December 2026; A's order has requisition number REK-4711."""
    frozen = datetime.datetime(2026, 12, 2, 9, 0, tzinfo=COPENHAGEN).astimezone(datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    a = make_order(cast, "draft", requisition_number="REK-4711")
    b = make_order(cast, "draft", customer=cast.customer_b, system=cast.canteen, codes=("engangsydelser",))
    package_fee(a, start=day(2026, 10, 1))
    package_fee(b, start=day(2026, 10, 15), monthly="2000.00")
    billing.billing_run(period=day(2026, 10, 1))
    billing.billing_run(period=day(2026, 11, 1))
    return {(i.customer_id, i.period.month): i for i in Invoice.objects.all()}


def get(client, user, url, **params):
    client.force_login(user)
    return client.get(url, params)


def test_an_invoice_has_an_invoice_date_and_is_due_after_30_days_net(cast, billed):
    invoice = billed[(cast.customer_a.pk, 11)]
    assert (invoice.issued_on, invoice.payment_terms_days, invoice.due_on) == (day(2026, 12, 2), 30, day(2027, 1, 1))


def test_the_payment_terms_come_from_the_setting_and_each_invoice_keeps_its_own(cast, billed, settings):
    settings.INVOICE_PAYMENT_TERMS_DAYS = 14
    billing.billing_run(period=day(2026, 11, 1))  # nothing left for November: no invoice changes
    package_fee(make_order(cast, "draft"), start=day(2026, 11, 20))
    billing.billing_run(period=day(2026, 11, 1))  # A is invoiced for November already: still nothing
    assert billed[(cast.customer_a.pk, 11)].due_on == Invoice.objects.get(pk=billed[(cast.customer_a.pk, 11)].pk).due_on
    preview = billing.billing_preview(period=day(2026, 12, 1))
    assert {(p.invoice.payment_terms_days, p.invoice.due_on) for p in preview} == {(14, day(2026, 12, 16))}


def test_the_invoice_page_shows_dates_terms_and_links_each_line_to_its_order(cast, billed, client):
    invoice = billed[(cast.customer_a.pk, 11)]
    body = get(client, cast.orderer_a, reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()
    order = invoice.lines.first().order
    assert f'<a href="{reverse("ordering:order_detail", args=[order.pk])}">{order.reference}</a>' in body
    assert "02.12.2026" in body and "01.01.2027" in body and "Netto 30 dage" in body
    assert "REK-4711" in body
    assert f'href="{reverse("billing:invoice_document", args=[invoice.pk])}"' in body


def test_the_invoice_page_costs_the_same_queries_for_few_and_many_lines(cast, billed, client):
    few = billed[(cast.customer_b.pk, 10)]  # one line
    many = billed[(cast.customer_a.pk, 10)]
    client.force_login(cast.support)
    client.get(reverse("billing:invoice_detail", args=[few.pk]))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("billing:invoice_detail", args=[few.pk]))
    for month in range(1, 9):  # more lines on A's December invoice: eight months of a fee started in April
        package_fee(make_order(cast, "draft"), start=day(2026, month, 1))
    billing.billing_run(period=day(2026, 12, 1), force=True)
    many = Invoice.objects.get(customer=cast.customer_a, period=day(2026, 12, 1))
    assert many.lines.count() > 8
    with CaptureQueriesContext(connection) as lots:
        client.get(reverse("billing:invoice_detail", args=[many.pk]))
    assert len(one.captured_queries) == len(lots.captured_queries)


def test_the_invoice_page_shows_its_lines_a_page_at_a_time_and_the_totals_of_all(cast, billed, client, monkeypatch):
    """Issue 23: an invoice to a large customer has hundreds of lines; the page shows INVOICE_LINES_SHOWN at a
    time (the PDF has every line), so it costs the same whatever the invoice holds."""
    from billing import views

    for month in range(1, 4):
        package_fee(make_order(cast, "draft"), start=day(2026, month, 1))
    billing.billing_run(period=day(2026, 12, 1), force=True)
    invoice = Invoice.objects.get(customer=cast.customer_a, period=day(2026, 12, 1))
    lines = invoice.lines.count()
    shown = lines - 1
    assert shown >= 2
    monkeypatch.setattr(views, "INVOICE_LINES_SHOWN", shown)
    url = reverse("billing:invoice_detail", args=[invoice.pk])

    def rows(body: str) -> int:
        return body.count('<td class="align-text-right nowrap" data-label=')  # each line's amount

    first = get(client, cast.am_a, url).content.decode()
    assert rows(first) == shown
    assert f"Linje 1–{shown} af {lines}; PDF'en har alle linjer." in first
    assert '?page=2"' in first
    second = get(client, cast.am_a, url, page=2).content.decode()
    assert rows(second) == 1
    # The totals are the invoice's, on every page.
    from billing.templatetags.money import kroner

    assert kroner(invoice.total_incl_vat) in first and kroner(invoice.total_incl_vat) in second
    monkeypatch.setattr(views, "INVOICE_LINES_SHOWN", lines)  # exactly one page: no pagination at all
    whole = get(client, cast.am_a, url).content.decode()
    assert rows(whole) == lines
    assert "?page=2" not in whole and "PDF'en har alle linjer" not in whole


def test_the_invoice_pdf_is_an_attachment_for_those_who_may_see_the_invoice(cast, billed, client):
    invoice = billed[(cast.customer_a.pk, 11)]
    url = reverse("billing:invoice_document", args=[invoice.pk])
    for person in ("orderer_a", "signatory_a", "am_a", "support"):
        response = get(client, getattr(cast, person), url)
        assert response.status_code == 200, person
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f'attachment; filename="faktura-{invoice.number}.pdf"'
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response.content.startswith(b"%PDF")
    for person in ("orderer_b", "signatory_b", "am_b", "outsider"):
        assert get(client, getattr(cast, person), url).status_code == 404, person


@pytest.mark.weasyprint
def test_the_invoice_pdf_is_tagged_pdf_a_and_states_what_a_public_customer_books_by(cast, billed, client):
    invoice = billed[(cast.customer_a.pk, 11)]
    response = get(client, cast.orderer_a, reverse("billing:invoice_document", args=[invoice.pk]))
    reader = PdfReader(io.BytesIO(response.content))
    raw = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "pdfaid:part" in raw and 'pdfaid:conformance="A"' in raw
    assert reader.trailer["/Root"]["/Lang"] == "da"
    assert reader.trailer["/Root"]["/MarkInfo"]["/Marked"]
    assert {"/H1", "/Table", "/TH", "/TD"} <= structure_kinds(reader.trailer["/Root"])
    assert reader.metadata.title == f"Faktura {invoice.number} – KMD Opus Personale"
    text = " ".join(" ".join(page.extract_text() for page in reader.pages).split())
    order = invoice.lines.first().order
    for fact in [
        f"Faktura {invoice.number}",
        "Fakturadato 02.12.2026",
        "Forfaldsdato 01.01.2027",
        "Betalingsbetingelser Netto 30 dage",
        "CVR-nummer 55133018",
        "EAN-nummer 5798000137004",
        f"{order.reference} REK-4711",
        "I alt inkl. moms 3.875,00 kr.",
    ]:
        assert fact in text, fact


def test_the_invoice_list_filters_by_customer_month_number_and_date(cast, billed, client):
    a_nov, b_oct = billed[(cast.customer_a.pk, 11)], billed[(cast.customer_b.pk, 10)]
    url = reverse("billing:invoice_list")
    body = get(client, cast.support, url, customer=cast.customer_b.pk).content.decode()
    assert b_oct.number in body and a_nov.number not in body
    body = get(client, cast.support, url, period="2026-11").content.decode()
    assert a_nov.number in body and b_oct.number not in body
    body = get(client, cast.support, url, q=a_nov.number).content.decode()
    assert a_nov.number in body and b_oct.number not in body
    body = get(client, cast.support, url, q="55133018").content.decode()
    assert a_nov.number in body and b_oct.number not in body
    # Both were made on 2 December: the boundary day is in, the day after is out.
    assert a_nov.number in get(client, cast.support, url, issued_from="2026-12-02").content.decode()
    assert a_nov.number not in get(client, cast.support, url, issued_from="2026-12-03").content.decode()
    assert a_nov.number in get(client, cast.support, url, issued_to="2026-12-02").content.decode()
    assert a_nov.number not in get(client, cast.support, url, issued_to="2026-12-01").content.decode()


def test_a_customer_cannot_filter_or_export_their_way_to_another_customers_invoices(cast, billed, client):
    b_oct = billed[(cast.customer_b.pk, 10)]
    url = reverse("billing:invoice_list")
    body = get(client, cast.orderer_a, url, customer=cast.customer_b.pk).content.decode()
    assert b_oct.number not in body and "Odense Kommune" not in body
    for fmt in ("csv", "xlsx"):
        export = get(client, cast.orderer_a, reverse("billing:invoice_list_export", args=[fmt]), q=b_oct.number)
        assert b_oct.number.encode() not in export.content


def test_the_invoice_list_exports_as_csv_with_danish_numbers_and_dates(cast, billed, client):
    invoice = billed[(cast.customer_a.pk, 11)]
    response = get(client, cast.am_a, reverse("billing:invoice_list_export", args=["csv"]), period="2026-11")
    assert response["Content-Disposition"] == 'attachment; filename="fakturaer-2026-12-02.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Faktura", "Periode", "Fakturadato", "Forfaldsdato"]
    assert rows[1:] == [
        [
            invoice.number,
            "2026-11-01",
            "2026-12-02",
            "2027-01-01",
            "30",
            "Aarhus Kommune",
            "55133018",
            "5798000137004",
            invoice.reference_person,
            "3100,00",
            "775,00",
            "3875,00",
        ]
    ]


def test_the_invoice_list_exports_as_xlsx_with_numbers_and_dates_as_such(cast, billed, client):
    response = get(client, cast.support, reverse("billing:invoice_list_export", args=["xlsx"]))
    assert response["Content-Disposition"] == 'attachment; filename="fakturaer-2026-12-02.xlsx"'
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Faktura" and len(rows) == 1 + len(billed)
    numbers = {row[0]: row for row in rows[1:]}
    row = numbers[billed[(cast.customer_a.pk, 11)].number]
    assert row[2] == datetime.datetime(2026, 12, 2) and row[11] == 3875


def test_an_unknown_export_format_is_not_found(cast, billed, client):
    assert get(client, cast.support, reverse("billing:invoice_list_export", args=["pdf"])).status_code == 404


def test_an_invoices_lines_name_their_orders_without_reading_them(cast, billed):
    """Issue 23: the lines were read joined to their orders, and PostgreSQL hashed every order in the database for a
    page of 50 lines (3 ms at 10,000 orders, growing with them). A line names its order by number, as the order
    does, from its own column: one query, which reads no order, for the page and the PDF alike."""
    from billing.documents import invoice_html, invoice_lines
    from ordering.models import AccessOrder

    invoice = billed[(cast.customer_a.pk, 11)]
    with CaptureQueriesContext(connection) as read:
        named = [(line.order_id, line.order_reference) for line in invoice_lines(invoice)]
    (sql,) = [q["sql"] for q in read.captured_queries]
    assert "ordering_accessorder" not in sql
    assert any(order_id for order_id, _reference in named)
    for order_id, reference in named:
        assert reference == (AccessOrder.objects.get(pk=order_id).reference if order_id else "")
    document = invoice_html(invoice)
    assert all(reference in document for _order_id, reference in named if reference)
