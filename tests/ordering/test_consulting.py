"""Asking KMD for help, before, during and after an integration project, and billing the hours from the request on.

From "Integration til KMD Opus Personale": "For yderligere assistance kan I anmode om konsulentbistand fra KMD
… Vi anbefaler, at I kontakter KMD for at diskutere disse behov, før projektet påbegyndes"; "Al bistand
udover dette er konsulentbistand, som afregnes til gældende takst for seniorkonsulent".
"""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from billing import services as billing
from billing.audit import BillingAuditKind
from billing.models import Charge, InvoiceLine
from core.errors import Invalid, NotAllowedNow, NotPermitted
from ordering import consulting
from ordering.audit import AuditKind
from ordering.models import ConsultingRequest

from ..conftest import make_price_list

D = Decimal
ASK = {"kind": "active_part", "message": "Vi vil integrere vores eget vagtplansystem og vil gerne tale med KMD først."}


def ask(cast, order=None, customer=None, actor=None, **kwargs):
    return consulting.consulting_request_create(
        actor=actor or cast.orderer_a, customer=customer or cast.customer_a, order=order, **{**ASK, **kwargs}
    )


def test_the_orderer_asks_about_a_draft_before_submitting_and_it_waits_for_the_account_manager(cast, order_in):
    order = order_in("draft")
    request = ask(cast, order=order)

    assert (request.order_id, request.kind, request.is_open) == (order.pk, "active_part", True)
    event = AuditEvent.objects.get(kind=AuditKind.CONSULTING_REQUESTED)
    assert (event.order_id, event.actor_id, event.actor_role) == (order.pk, cast.orderer_a.pk, "orderer")
    assert list(consulting.open_requests_for_account_manager(cast.am_a)) == [request]
    assert not consulting.open_requests_for_account_manager(cast.am_b).exists()


def test_a_signatory_may_ask_about_the_customers_plans_without_an_order(cast):
    request = ask(cast, actor=cast.signatory_a, kind="startup_package")
    assert (
        request.order is None and AuditEvent.objects.get(kind=AuditKind.CONSULTING_REQUESTED).actor_role == "signatory"
    )


@pytest.mark.parametrize("who", ["am_a", "support", "orderer_b"])
def test_only_the_customers_orderers_and_signatories_may_ask(cast, who):
    with pytest.raises(NotPermitted):
        ask(cast, actor=getattr(cast, who))
    assert not ConsultingRequest.objects.exists()


def test_an_order_of_another_customer_cannot_be_named(cast, order_in):
    other = order_in("draft", customer=cast.customer_b)
    with pytest.raises(Exception) as refused:
        ask(cast, order=other)
    assert "another customer" in str(refused.value)
    assert not ConsultingRequest.objects.exists()


@pytest.mark.parametrize("state", ["withdrawn", "rejected", "closed"])
def test_no_request_about_an_order_that_has_ended(cast, order_in, state):
    order = order_in(state)
    with pytest.raises(NotAllowedNow):
        ask(cast, order=order)
    assert not ConsultingRequest.objects.exists()


@pytest.mark.parametrize("kind,message", [("advice", ASK["message"]), ("reactive", "  "), ("reactive", "x\x07y")])
def test_a_request_needs_a_kind_and_a_readable_message(cast, kind, message):
    with pytest.raises(Invalid):
        ask(cast, kind=kind, message=message)
    assert not ConsultingRequest.objects.exists()


def test_the_message_may_be_exactly_as_long_as_allowed(cast):
    limit = ConsultingRequest.MESSAGE_MAX_LENGTH
    assert ask(cast, message="a" * limit).message == "a" * limit
    with pytest.raises(Invalid):
        ask(cast, message="a" * (limit + 1))
    assert ConsultingRequest.objects.count() == 1


def test_the_account_manager_answers_once_and_the_request_leaves_the_start_page(cast):
    request = ask(cast)
    with pytest.raises(NotPermitted):
        consulting.consulting_request_answer(actor=cast.am_b, request=request, answer="Ja")
    answered = consulting.consulting_request_answer(actor=cast.am_a, request=request, answer="Vi holder et møde 8/12.")
    assert not answered.is_open and answered.answered_by == cast.am_a
    assert not consulting.open_requests_for_account_manager(cast.am_a).exists()
    assert AuditEvent.objects.filter(kind=AuditKind.CONSULTING_REQUEST_ANSWERED).count() == 1
    with pytest.raises(NotAllowedNow):
        consulting.consulting_request_answer(actor=cast.am_a, request=request, answer="Igen")


# --- Hours from the request on --------------------------------------------------------------------


def test_hours_are_billed_before_establishment_from_the_day_the_customer_asked(cast, order_in):
    order = order_in("submitted")
    with pytest.raises(NotAllowedNow):
        billing.consulting_record(order=order, actor=cast.am_a, on=timezone.localdate(), hours=D("1"), description="x")
    request = ask(cast, order=order)
    asked = request.requested_on
    with pytest.raises(Invalid):
        billing.consulting_record(
            order=order, actor=cast.am_a, on=asked - datetime.timedelta(days=1), hours=D("1"), description="Møde"
        )
    charge = billing.consulting_record(order=order, actor=cast.am_a, on=asked, hours=D("2.5"), description="Møde")
    assert (charge.order_id, charge.amount, charge.hourly_rate) == (order.pk, D("3750.00"), D("1500.00"))
    assert AuditEvent.objects.filter(kind=BillingAuditKind.CONSULTING_RECORDED, order=order).count() == 1

    run = billing.billing_run(period=asked, force=True)
    (line,) = InvoiceLine.objects.filter(invoice__run=run, charge=charge)
    assert (line.kind, line.amount) == ("consulting", D("3750.00"))


def test_a_future_day_is_refused(cast, order_in):
    order = order_in("submitted")
    ask(cast, order=order)
    with pytest.raises(Invalid):
        billing.consulting_record(
            order=order,
            actor=cast.am_a,
            on=timezone.localdate() + datetime.timedelta(days=1),
            hours=D("1"),
            description="Møde",
        )
    assert not Charge.objects.exists()


def test_hours_about_the_customers_plans_are_billed_to_the_customer_at_the_rate_of_the_day(cast):
    request = ask(cast)
    asked = request.requested_on
    newer = make_price_list({}, [], effective_from=asked, name="Prisliste ny")
    newer.consulting_hourly_rate = D("1600.00")
    newer.save()
    charge = billing.consulting_record(
        customer=cast.customer_a, actor=cast.am_a, on=asked, hours=D("1"), description="Afklaring"
    )
    assert (charge.order_id, charge.customer_id, charge.amount, charge.price_list_id) == (
        None,
        cast.customer_a.pk,
        D("1600.00"),
        newer.pk,
    )
    with pytest.raises(NotPermitted):
        billing.consulting_record(customer=cast.customer_a, actor=cast.am_b, on=asked, hours=D("1"), description="x")
    with pytest.raises(NotAllowedNow):
        billing.consulting_record(customer=cast.customer_b, actor=cast.am_b, on=asked, hours=D("1"), description="x")


def test_after_establishment_hours_need_no_request(cast, order_in):
    order = order_in("active")
    charge = billing.consulting_record(
        order=order, actor=cast.am_a, on=order.activated_on, hours=D("1"), description="Fejlsøgning"
    )
    assert charge.amount == D("1500.00")


# --- The pages ------------------------------------------------------------------------------------


def test_the_orderer_asks_from_the_order_page_and_the_account_manager_answers_and_records_hours(cast, order_in, client):
    order = order_in("draft")
    client.force_login(cast.orderer_a)
    page = client.get(reverse("ordering:consulting_create") + f"?order={order.pk}")
    assert page.status_code == 200 and order.reference in page.content.decode()
    sent = client.post(
        reverse("ordering:consulting_create"), {"order": order.pk, "customer": cast.customer_a.pk, **ASK}
    )
    request = ConsultingRequest.objects.get()
    assert sent.status_code == 302 and sent["Location"] == reverse("ordering:consulting_detail", args=[request.pk])
    assert request.order == order

    client.force_login(cast.am_a)
    home = client.get(reverse("home")).content.decode()
    assert reverse("ordering:consulting_detail", args=[request.pk]) in home
    answered = client.post(reverse("ordering:consulting_detail", args=[request.pk]), {"answer": "Møde på tirsdag."})
    assert answered.status_code == 302
    recorded = client.post(
        reverse("billing:consulting_for_request", args=[request.pk]),
        {"on": timezone.localdate().isoformat(), "hours": "1,5", "description": "Opstartsmøde"},
    )
    assert recorded.status_code == 302
    (charge,) = Charge.objects.all()
    assert (charge.order_id, charge.amount) == (order.pk, D("2250.00"))
    detail = client.get(reverse("ordering:consulting_detail", args=[request.pk])).content.decode()
    assert "Opstartsmøde" in detail and "Møde på tirsdag." in detail


def test_a_form_error_keeps_what_was_typed(cast, client):
    client.force_login(cast.orderer_a)
    page = client.post(reverse("ordering:consulting_create"), {"customer": cast.customer_a.pk, "message": "Hjælp"})
    assert page.status_code == 400 and "Hjælp" in page.content.decode()
    assert not ConsultingRequest.objects.exists()


def test_another_customers_request_is_not_found(cast, client):
    request = ask(cast)
    for user in (cast.orderer_b, cast.am_b):
        client.force_login(user)
        assert client.get(reverse("ordering:consulting_detail", args=[request.pk])).status_code == 404
        assert (
            client.post(
                reverse("billing:consulting_for_request", args=[request.pk]),
                {"on": timezone.localdate().isoformat(), "hours": "1", "description": "x"},
            ).status_code
            == 404
        )
    assert not Charge.objects.exists()


def test_the_customer_cannot_answer_or_record_hours(cast, client):
    request = ask(cast)
    client.force_login(cast.orderer_a)
    assert client.post(reverse("ordering:consulting_detail", args=[request.pk]), {"answer": "Selv"}).status_code == 403
    client.post(
        reverse("billing:consulting_for_request", args=[request.pk]),
        {"on": timezone.localdate().isoformat(), "hours": "1", "description": "x"},
    )
    assert not Charge.objects.exists()
    request.refresh_from_db()
    assert request.is_open
