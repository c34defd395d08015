"""Amounts, hours and free text are bounded: an absurd value is a clear error on the page, never a server
error, and nothing is stored. The services refuse the same for callers that skip the forms."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from billing import services as billing
from billing.models import Charge, QuoteAdjustment, StartupPackage
from ordering import services
from ordering.models import AccessOrder

from ..conftest import facts
from .snapshots import snapshot

D = Decimal
FORTY_ONE_DIGITS = "9" * 41


def post(client, user, name: str, order, data: dict):
    client.force_login(user)
    return client.post(reverse(name, args=[order.pk]), data, follow=True)


# --- Amounts and hours -------------------------------------------------------------------------


def test_a_41_digit_amount_or_hour_count_is_a_form_error_and_nothing_is_stored(
    cast, order_in, individual_order, client
):
    submitted = order_in("submitted")
    active = individual_order("active", startup_package=True)
    before = snapshot(submitted), snapshot(active)
    for name, order, data, message in [
        (
            "billing:quote_adjust",
            submitted,
            {"kind": "one_time", "amount": FORTY_ONE_DIGITS, "reason": "Rabat"},
            "Skriv beløbet i kroner og øre, fra -1.000.000,00 kr. til 1.000.000,00 kr.",
        ),
        (
            "billing:consulting",
            active,
            {"on": timezone.localdate().isoformat(), "hours": FORTY_ONE_DIGITS, "description": "Møde"},
            "Skriv timerne i kvarte timer, fra 0,25 til 1000",
        ),
        (
            "billing:startup_usage",
            active,
            {"meetings": FORTY_ONE_DIGITS, "qa_hours": FORTY_ONE_DIGITS},
            "Skriv antallet af møder som et helt tal fra 0 til 10.",
        ),
        (
            "billing:consulting",
            active,
            {"on": timezone.localdate().isoformat(), "hours": "9e999", "description": "Møde"},
            "Skriv timerne i kvarte timer",
        ),
    ]:
        response = post(client, cast.am_a, name, order, data)
        assert response.status_code == 400, name  # the page again, the error by its field
        assert message in response.content.decode(), name
    assert (snapshot(submitted), snapshot(active)) == before
    assert not QuoteAdjustment.objects.exists() and not Charge.objects.filter(kind="consulting").exists()


def test_the_largest_adjustment_is_accepted_and_one_øre_more_is_refused(cast, order_in, client):
    order = order_in("submitted")
    for typed in ("1.000.000,01", "-1.000.000,01", "1000000.01", "12,345"):
        post(client, cast.am_a, "billing:quote_adjust", order, {"kind": "one_time", "amount": typed, "reason": "x"})
    for amount in (D("1000000.01"), D("-1000000.01"), D("12.345"), D("NaN")):
        with pytest.raises(billing.BillingError):
            billing.quote_adjustment_add(order=order, actor=cast.am_a, kind="one_time", amount=amount, reason="x")
    assert not QuoteAdjustment.objects.exists()

    for typed in ("1.000.000,00", "-1000000"):
        post(client, cast.am_a, "billing:quote_adjust", order, {"kind": "one_time", "amount": typed, "reason": "x"})
    assert sorted(QuoteAdjustment.objects.values_list("amount", flat=True)) == [D("-1000000.00"), D("1000000.00")]
    # The database holds the line as well.
    with pytest.raises(IntegrityError), transaction.atomic():
        QuoteAdjustment.objects.update(amount=D("1000000.01"))


def test_hours_run_in_quarters_up_to_1000_written_with_a_comma_or_a_point(cast, order_in, client):
    order = order_in("active")
    today = timezone.localdate().isoformat()
    for typed in ("1000,01", "1000.25", "0", "2,3", "-1"):
        post(client, cast.am_a, "billing:consulting", order, {"on": today, "hours": typed, "description": "Møde"})
    for hours in (D("1000.01"), D("0"), D("0.1"), D("Infinity")):
        with pytest.raises(billing.BillingError):
            billing.consulting_record(
                order=order, actor=cast.am_a, on=timezone.localdate(), hours=hours, description="x"
            )
    assert not Charge.objects.filter(kind="consulting").exists()

    for typed in ("1000", "2,5", "2.5", "0,25"):
        post(client, cast.am_a, "billing:consulting", order, {"on": today, "hours": typed, "description": "Møde"})
    hours = sorted(Charge.objects.filter(kind="consulting").values_list("hours", flat=True))
    assert hours == [D("0.25"), D("2.5"), D("2.5"), D("1000")]


def test_startup_package_use_is_bounded_per_recording(cast, individual_order, client):
    order = individual_order("active", startup_package=True)
    for meetings, qa_hours in (("11", "0"), ("0", "100,25"), ("-1", "0"), ("1", "0,1")):
        post(client, cast.am_a, "billing:startup_usage", order, {"meetings": meetings, "qa_hours": qa_hours})
    with pytest.raises(billing.BillingError):
        billing.startup_usage_record(order=order, actor=cast.am_a, meetings=10**40)
    assert (StartupPackage.objects.get().meetings_used, StartupPackage.objects.get().qa_hours_used) == (0, 0)

    post(client, cast.am_a, "billing:startup_usage", order, {"meetings": "10", "qa_hours": "100"})
    assert (StartupPackage.objects.get().meetings_used, StartupPackage.objects.get().qa_hours_used) == (10, 100)


# --- Free text ---------------------------------------------------------------------------------


def order_form(cast, **fields) -> dict:
    return {
        "external_system": cast.rostering.pk,
        "purchase_model": "single",
        "interfaces": [cast.interfaces["opret-fravaer"].pk],
        "environment": "production",
        "reason": "new",
        **fields,
    }


@pytest.mark.parametrize(("field", "limit"), [("note", 2000), ("requisition_number", 40)])
def test_order_text_at_its_limit_is_accepted_and_one_character_more_refused(cast, client, field, limit):
    client.force_login(cast.orderer_a)
    response = client.post(reverse("ordering:order_create"), order_form(cast, **{field: "x" * (limit + 1)}))
    assert response.status_code == 400
    assert f"{limit + 1}" in response.content.decode()
    with pytest.raises(services.Invalid) as refused:
        services.order_create(
            actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast, **{field: "x" * (limit + 1)})
        )
    assert (
        refused.value.errors[field]
        == f"Teksten er {limit + 1} tegn lang; der må højst være {limit} tegn. Gør den kortere."
    )
    assert not AccessOrder.objects.exists()

    response = client.post(reverse("ordering:order_create"), order_form(cast, **{field: "x" * limit}))
    assert response.status_code == 302
    order = services.order_create(
        actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast, **{field: "y" * limit})
    )
    assert getattr(order, field) == "y" * limit


def test_a_300000_character_note_is_refused_by_the_form_the_service_and_the_database(cast, order_in, client):
    huge = "Lang note. " * 27_273  # 300,003 characters
    client.force_login(cast.orderer_a)
    response = client.post(reverse("ordering:order_create"), order_form(cast, note=huge))
    assert response.status_code == 400
    with pytest.raises(services.Invalid):
        services.order_create(actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast, note=huge))
    assert not AccessOrder.objects.exists()

    order = order_in("draft")
    before = snapshot(order)
    with pytest.raises(services.Invalid):
        services.order_update_draft(order=order, actor=cast.orderer_a, facts=facts(cast, note=huge))
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessOrder.objects.filter(pk=order.pk).update(note=huge)
    assert snapshot(order) == before


def test_comments_and_reasons_at_their_limit_are_accepted_and_one_character_more_refused(cast, order_in, client):
    order = order_in("submitted")
    before = snapshot(order)
    for service, kwargs in [
        (services.order_reject, {"comment": "x" * 2001}),
        (services.order_return_for_changes, {"comment": "x" * 2001}),
        (services.order_withdraw, {"comment": "x" * 2001}),
    ]:
        actor = cast.orderer_a if service is services.order_withdraw else cast.am_a
        with pytest.raises(services.Invalid):
            service(order=order, actor=actor, **kwargs)
    client.force_login(cast.am_a)
    response = client.post(
        reverse("ordering:order_transition", args=[order.pk, "reject"]),
        {"expected_state": "submitted", "comment": "x" * 2001},
    )
    assert response.status_code == 400
    assert snapshot(order) == before

    active = order_in("active", system=cast.canteen, codes=("engangsydelser",))
    with pytest.raises(services.Invalid):
        services.order_emergency_close(order=active, actor=cast.support, reason="x" * 2001)
    assert services.order_emergency_close(order=active, actor=cast.support, reason="y" * 2000).emergency_reason == (
        "y" * 2000
    )
    order = services.order_reject(order=order, actor=cast.am_a, comment="z" * 2000)
    assert order.events.last().comment == "z" * 2000


@pytest.mark.parametrize(
    ("name", "data", "limit"),
    [
        ("billing:quote_adjust", {"kind": "one_time", "amount": "-100"}, ("reason", 300)),
        ("billing:consulting", {"hours": "1"}, ("description", 200)),
    ],
)
def test_billing_texts_at_their_limit_are_accepted_and_one_character_more_refused(
    cast, order_in, client, name, data, limit
):
    field, length = limit
    order = order_in("submitted" if name == "billing:quote_adjust" else "active")
    data = {**data, "on": timezone.localdate().isoformat()}
    response = post(client, cast.am_a, name, order, {**data, field: "x" * (length + 1)})
    assert response.status_code == 400 and f"{length + 1}" in response.content.decode()
    with pytest.raises(billing.BillingError):
        if name == "billing:quote_adjust":
            billing.quote_adjustment_add(
                order=order, actor=cast.am_a, kind="one_time", amount=D("-1"), reason="x" * 301
            )
        else:
            billing.consulting_record(
                order=order, actor=cast.am_a, on=timezone.localdate(), hours=D("1"), description="x" * 201
            )
    assert not QuoteAdjustment.objects.exists() and not Charge.objects.filter(kind="consulting").exists()

    post(client, cast.am_a, name, order, {**data, field: "x" * length})
    assert QuoteAdjustment.objects.count() + Charge.objects.filter(kind="consulting").count() == 1
