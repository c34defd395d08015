"""The back office's billing page: the next run's preview from the run's own calculation, starting a run, past runs."""

import datetime
import html
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from billing import services as billing
from billing.models import BillingRun, Invoice, InvoiceLine
from tests.billing.builders import package_fee
from tests.conftest import make_order

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
day = datetime.date
NOVEMBER, DECEMBER = day(2026, 11, 1), day(2026, 12, 1)


@pytest.fixture
def clock(monkeypatch):
    """Django's clock at 2 December 2026, 09:00 in Copenhagen: November has ended, December has not."""
    frozen = datetime.datetime(2026, 12, 2, 9, 0, tzinfo=COPENHAGEN).astimezone(datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: frozen)


@pytest.fixture
def fees(cast, clock):
    """A package fee for each customer since the summer (A from 1 July, B from 15 October, at 2.000,00 kr.)."""
    a = make_order(cast, "draft")
    b = make_order(cast, "draft", customer=cast.customer_b, system=cast.canteen, codes=("engangsydelser",))
    return package_fee(a, start=day(2026, 7, 1)), package_fee(b, start=day(2026, 10, 15), monthly="2000.00")


def page(client, user, **params):
    client.force_login(user)
    return client.get(reverse("billing:run_list"), params)


def seen(client, user, **params) -> str:
    """What the reader sees: the page, and the preview a browser loads into it from the URL the page names."""
    body = page(client, user, **params).content.decode()
    loads = re.search(r'<div id="preview-body" hx-get="([^"]+)" hx-trigger="load"', body)
    if loads is None:  # shown in the page: a month was chosen
        return body
    preview = client.get(html.unescape(loads.group(1)), headers={"HX-Request": "true"})
    assert preview.status_code == 200
    return body + preview.content.decode()


def snapshot():
    return (
        list(BillingRun.objects.values_list("period", "runs")),
        list(Invoice.objects.values_list("number", "total_excl_vat")),
        InvoiceLine.objects.count(),
        AuditEvent.objects.count(),
    )


def test_the_preview_is_what_the_run_then_bills(cast, fees):
    previewed = billing.billing_preview(period=NOVEMBER)
    billing.billing_run(period=NOVEMBER)
    billed = {i.customer_id: i for i in Invoice.objects.filter(period=NOVEMBER)}
    assert {p.invoice.customer_id for p in previewed} == set(billed) == {cast.customer_a.pk, cast.customer_b.pk}
    for item in previewed:
        invoice = billed[item.invoice.customer_id]
        fields = ("number", "total_excl_vat", "vat", "total_incl_vat", "cvr", "ean", "issued_on", "due_on")
        assert [getattr(item.invoice, f) for f in fields] == [getattr(invoice, f) for f in fields]
        assert [(x.source_key, x.order_id, x.amount, x.description_da) for x in item.lines] == list(
            invoice.lines.order_by("pk").values_list("source_key", "order_id", "amount", "description_da")
        )
    # Once billed, the preview of the month has nothing left: the run bills nothing twice.
    assert billing.billing_preview(period=NOVEMBER) == []


def test_the_page_previews_the_next_run_in_danish_with_lines_linked_to_their_orders(cast, fees, client):
    fee_a, fee_b = fees
    body = seen(client, cast.support)
    assert "Det faktureres for november 2026" in body  # the next run: November has ended and is not billed
    assert "Aarhus Kommune" in body and "Odense Kommune" in body
    assert f'href="{reverse("ordering:order_detail", args=[fee_a.order_id])}"' in body
    assert fee_a.order.reference in body
    assert "vagtplanpakke – november 2026, 30/30 dage" in body.lower()
    # 5 months of 3.100,00 for A (July to November) and 17/31 of October and November for B.
    assert "15.500,00 kr." in body
    assert not Invoice.objects.exists()  # previewing writes nothing


def test_after_the_month_is_billed_the_page_previews_the_month_running_now(cast, fees, client):
    billing.billing_run(period=NOVEMBER)
    body = seen(client, cast.support)
    assert "Det faktureres for december 2026" in body
    assert "Måneden december 2026 er ikke slut endnu" in body  # the run's own refusal, told before asking


def test_an_account_manager_previews_only_the_customers_they_serve(cast, fees, client):
    body = seen(client, cast.am_a)
    assert "Aarhus Kommune" in body and "Odense Kommune" not in body
    body = seen(client, cast.am_b, period="2026-11")
    assert "Odense Kommune" in body and "Aarhus Kommune" not in body


@pytest.mark.parametrize("person", ["orderer_a", "signatory_a", "outsider"])
def test_customers_neither_see_the_billing_page_nor_start_a_run(cast, fees, client, person):
    before = snapshot()
    assert page(client, getattr(cast, person)).status_code == 403
    assert client.post(reverse("billing:run_start"), {"period": "2026-11"}).status_code == 403
    assert snapshot() == before


def test_starting_a_run_needs_a_post(cast, fees, client):
    client.force_login(cast.support)
    assert client.get(reverse("billing:run_start"), {"period": "2026-11"}).status_code == 405
    assert not BillingRun.objects.exists()


def test_starting_a_run_needs_the_csrf_token(cast, fees, client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cast.support)
    before = snapshot()
    assert strict.post(reverse("billing:run_start"), {"period": "2026-11"}).status_code == 403
    assert snapshot() == before


def test_support_starts_the_run_of_a_finished_month_and_it_is_audited(cast, fees, client):
    client.force_login(cast.support)
    response = client.post(reverse("billing:run_start"), {"period": "2026-11"}, follow=True)
    assert "November 2026 blev faktureret: 2 fakturaer blev dannet." in response.content.decode()
    run = BillingRun.objects.get(period=NOVEMBER)
    assert run.invoices.count() == 2
    event = AuditEvent.objects.get(kind="billing_run_started")
    assert event.actor == cast.support and event.actor_role == "support"
    assert event.params == {"billed_month_on": "2026-11-01", "invoices_made": "2"}
    from audit import vocabulary

    assert not vocabulary.is_published("billing_run_started")  # KMD's own record: no webhook hears of it
    # The page the run leads back to lists it with its total.
    assert "November 2026" in response.content.decode() or "november 2026" in response.content.decode()


def test_a_second_run_of_the_month_bills_nothing_twice_and_says_so(cast, fees, client):
    client.force_login(cast.am_a)
    client.post(reverse("billing:run_start"), {"period": "2026-11"})
    lines = InvoiceLine.objects.count()
    response = client.post(reverse("billing:run_start"), {"period": "2026-11"}, follow=True)
    assert "November 2026 var allerede faktureret" in response.content.decode()
    assert InvoiceLine.objects.count() == lines and BillingRun.objects.get(period=NOVEMBER).runs == 2
    assert AuditEvent.objects.filter(kind="billing_run_started").count() == 2


def test_a_month_not_ended_is_refused_with_the_runs_own_sentence_and_nothing_changes(cast, fees, client):
    client.force_login(cast.support)
    before = snapshot()
    response = client.post(reverse("billing:run_start"), {"period": "2026-12"}, follow=True)
    assert (
        "Måneden december 2026 er ikke slut endnu og kan derfor ikke faktureres. "
        "Kør faktureringen den 01.01.2027 eller senere."
    ) in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize(
    ("period", "accepted"),
    [("2025-12", True), ("2025-11", False), ("2026-12", True), ("2027-01", False), ("november", False)],
)
def test_the_page_offers_this_month_and_the_twelve_before_it_and_no_other(cast, fees, client, period, accepted):
    """The boundary: December 2025 is the 12th month before December 2026 (offered), November 2025 the 13th."""
    client.force_login(cast.support)
    response = client.post(reverse("billing:run_start"), {"period": period})
    if accepted:
        assert response.status_code == 302
    else:
        assert response.status_code == 400
        assert "Vælg en måned på listen" in response.content.decode()
        assert not BillingRun.objects.exists()


def test_the_english_page_speaks_english_with_british_dates(cast, fees, client):
    client.cookies["django_language"] = "en"
    client.force_login(cast.support)
    response = client.post(reverse("billing:run_start"), {"period": "2026-12"}, follow=True)
    body = response.content.decode()
    assert "The month December 2026 has not ended yet" in body and "01/01/2027" in body
    assert "What December 2026 will bill" in body  # back to the month asked for


def test_past_runs_show_their_totals_for_the_customers_served(cast, fees, client):
    billing.billing_run(period=NOVEMBER)
    a = Invoice.objects.get(customer=cast.customer_a)
    b = Invoice.objects.get(customer=cast.customer_b)
    from billing.pricing import kroner

    body = page(client, cast.support).content.decode()
    assert kroner(a.total_excl_vat + b.total_excl_vat) in body
    body = page(client, cast.am_a).content.decode()
    assert kroner(a.total_excl_vat) in body and kroner(a.total_excl_vat + b.total_excl_vat) not in body


def test_the_page_costs_the_same_queries_for_few_and_many_customers(cast, clock, client, django_assert_num_queries):
    from ordering.models import Customer

    def add_customers(n, first):
        for i in range(n):
            customer = Customer.objects.create(
                name=f"Kommune {first + i}",
                cvr=f"{10000000 + first + i}",
                ean=f"{5790000000000 + first + i}",
                account_manager=cast.am_a,
            )
            order = make_order(cast, "draft")
            package_fee(order, start=day(2026, 10, 1), customer=customer)

    client.force_login(cast.support)
    add_customers(2, 0)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    urls = (
        reverse("billing:run_list"),
        reverse("billing:run_preview"),
        reverse("billing:run_list") + "?period=2026-11",
    )
    few = {}
    for url in urls:
        client.get(url)  # warm the user's caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        few[url] = len(queries.captured_queries)
    add_customers(20, 100)
    for url in urls:
        with django_assert_num_queries(few[url]):
            body = client.get(url).content.decode()
        assert ("Kommune 119" in body) == (url != reverse("billing:run_list"))  # the bare page leaves the preview


def test_the_page_itself_leaves_the_preview_to_be_loaded_and_says_so_without_javascript(cast, fees, client):
    """Issue 23: the preview reads every fee and charge not billed yet, so it grows with the data; the page is
    shown first, the same at 100 orders as at 10,000, and loads it."""
    body = page(client, cast.support).content.decode()
    assert "Aarhus Kommune" not in body  # not calculated for the page itself
    assert 'hx-get="/billing/runs/preview/?period=2026-11" hx-trigger="load"' in body
    assert '<noscript><a href="?period=2026-11#preview">' in body  # the form's own GET shows it in the page
    assert "Aarhus Kommune" in page(client, cast.support, period="2026-11").content.decode()


def test_the_preview_alone_is_for_the_back_office_only(cast, fees, client):
    for person in ("orderer_a", "signatory_a", "outsider"):
        client.force_login(getattr(cast, person))
        assert client.get(reverse("billing:run_preview")).status_code == 403
    client.force_login(cast.am_b)
    body = client.get(reverse("billing:run_preview"), {"period": "2026-11"}).content.decode()
    assert "Odense Kommune" in body and "Aarhus Kommune" not in body


def test_a_month_not_offered_in_the_preview_is_a_clear_error_and_the_next_run_is_shown(cast, fees, client):
    response = page(client, cast.support, period="2030-01")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Vælg en måned på listen: denne måned eller en af de 12 foregående." in body
    assert "Det faktureres for november 2026" in body


def test_without_a_price_list_for_the_month_the_preview_says_so_as_the_run_would(cast, fees, client):
    from billing.models import PriceList

    PriceList.objects.update(effective_from=day(2026, 12, 1))  # none in force in November
    body = page(client, cast.support, period="2026-11").content.decode()
    refusal = "Der er ingen gældende prisliste den 30.11.2026. En katalogadministrator skal oprette en."
    assert refusal in body
    response = client.post(reverse("billing:run_start"), {"period": "2026-11"}, follow=True)
    assert refusal in response.content.decode()
    assert not BillingRun.objects.exists() and not Invoice.objects.exists()
