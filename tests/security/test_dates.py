"""Dates are bounded: access is established after acceptance and not in the future, closed no earlier than
it was established, and consulting is billed only on an established access, for a day it ran."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone

from billing import services as billing
from billing.models import Charge
from ordering import services
from ordering.models import AccessOrder

from .snapshots import snapshot

D = Decimal
DAY = datetime.timedelta(days=1)


def short(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")


def accepted_on(order_in, day: datetime.date) -> AccessOrder:
    """An order whose addendum was accepted just after midnight, Danish time, on `day` (still the day
    before in UTC: the acceptance date is the local one)."""
    order = order_in("provisioning")
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(0, 30)))
    order.addenda.filter(status="accepted").update(decided_at=moment)
    return order


def established_on(cast, order_in, day: datetime.date) -> AccessOrder:
    order = accepted_on(order_in, day)
    return services.order_activate(order=order, actor=cast.am_a, on=day)


# --- Activation --------------------------------------------------------------------------------


def test_activating_on_1990_01_01_is_refused_and_changes_nothing(cast, order_in, client):
    order = order_in("provisioning")
    before = snapshot(order)
    with pytest.raises(services.Invalid) as refused:
        services.order_activate(order=order, actor=cast.am_a, on=datetime.date(1990, 1, 1))
    assert "accepterede tillægget" in refused.value.message
    assert snapshot(order) == before

    client.force_login(cast.am_a)
    response = client.post(
        reverse("ordering:order_transition", args=[order.pk, "activate"]),
        {"expected_state": "provisioning", "on": "1990-01-01"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Adgangen kan ikke være etableret, før kunden accepterede tillægget" in response.content.decode()
    assert snapshot(order) == before
    assert not Charge.objects.exists()


def test_activation_is_allowed_from_the_acceptance_date_and_not_the_day_before_nor_in_the_future(cast, order_in):
    acceptance = timezone.localdate() - 10 * DAY
    order = accepted_on(order_in, acceptance)
    before = snapshot(order)
    for refused in (acceptance - DAY, timezone.localdate() + DAY):
        with pytest.raises(services.Invalid):
            services.order_activate(order=order, actor=cast.am_a, on=refused)
        assert snapshot(order) == before
    with pytest.raises(services.Invalid) as day_before:
        services.order_activate(order=order, actor=cast.am_a, on=acceptance - DAY)
    assert short(acceptance) in day_before.value.message

    order = services.order_activate(order=order, actor=cast.am_a, on=acceptance)
    assert (order.state, order.activated_on) == ("active", acceptance)
    assert set(Charge.objects.filter(order=order).values_list("booked_on", flat=True)) == {acceptance}


# --- Closure -----------------------------------------------------------------------------------


def test_closing_the_day_before_activation_is_refused_and_on_the_activation_day_allowed(cast, order_in):
    activation = timezone.localdate() - 10 * DAY
    order = established_on(cast, order_in, activation)
    before = snapshot(order)
    with pytest.raises(services.Invalid) as refused:
        services.order_close(order=order, actor=cast.am_a, on=activation - DAY)
    assert short(activation) in refused.value.message
    assert snapshot(order) == before
    # The database refuses it too, whoever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessOrder.objects.filter(pk=order.pk).update(closed_on=activation - DAY)

    order = services.order_close(order=order, actor=cast.am_a, on=activation)
    assert (order.state, order.closed_on) == ("closed", activation)


# --- Consulting --------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "submitted", "rejected", "withdrawn", "awaiting_signature", "provisioning"])
def test_consulting_is_refused_on_an_order_whose_access_was_never_established(cast, order_in, client, state):
    order = order_in(state)
    before = snapshot(order)
    with pytest.raises(billing.BillingError) as refused:
        billing.consulting_record(
            order=order, actor=cast.am_a, on=timezone.localdate(), hours=D("2"), description="Sparring"
        )
    assert "når adgangen er etableret" in refused.value.message
    assert snapshot(order) == before

    client.force_login(cast.am_a)
    response = client.post(
        reverse("billing:consulting", args=[order.pk]),
        {"on": timezone.localdate().isoformat(), "hours": "2", "description": "Sparring"},
    )
    # The order page again, the refusal above the form with what was typed.
    assert response.status_code == 400 and "når adgangen er etableret" in response.content.decode()
    assert not Charge.objects.filter(kind="consulting").exists()


def test_consulting_dated_2099_is_refused(cast, order_in):
    order = order_in("active")
    before = snapshot(order)
    with pytest.raises(billing.BillingError) as refused:
        billing.consulting_record(
            order=order, actor=cast.am_a, on=datetime.date(2099, 1, 1), hours=D("2"), description="Sparring"
        )
    assert short(timezone.localdate()) in refused.value.message
    assert snapshot(order) == before


def test_consulting_on_a_running_access_is_allowed_today_and_not_tomorrow(cast, order_in):
    order = order_in("active")
    with pytest.raises(billing.BillingError):
        billing.consulting_record(
            order=order, actor=cast.am_a, on=timezone.localdate() + DAY, hours=D("1"), description="Møde"
        )
    charge = billing.consulting_record(
        order=order, actor=cast.am_a, on=timezone.localdate(), hours=D("1"), description="Møde"
    )
    assert charge.booked_on == timezone.localdate()


@pytest.mark.parametrize("closing", ["close", "emergency_close"])
def test_consulting_is_allowed_from_the_first_to_the_last_day_of_the_access_and_not_beyond(cast, order_in, closing):
    activation = timezone.localdate() - 20 * DAY
    order = established_on(cast, order_in, activation)
    if closing == "close":
        order = services.order_close(order=order, actor=cast.am_a, on=activation + 5 * DAY)
    else:
        order = services.order_emergency_close(order=order, actor=cast.support, reason="Sikkerhedsbrud")
    last = order.closed_on

    def record(day):
        return billing.consulting_record(order=order, actor=cast.am_a, on=day, hours=D("1"), description="Møde")

    before = snapshot(order)
    for outside in (activation - DAY, last + DAY):
        with pytest.raises(billing.BillingError) as refused:
            record(outside)
        assert f"{short(activation)} til {short(last)}" in refused.value.message
        assert snapshot(order) == before
    assert [record(day).booked_on for day in (activation, last)] == [activation, last]
