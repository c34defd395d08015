"""Each action offered on a page has one `*_refusal()` predicate: the page offers the action exactly when the
service would take it (#20, part 3). Here for the emergency-closure request, the price adjustment and consulting."""

import pytest
from django.urls import reverse
from django.utils import timezone

from billing import services as billing
from billing.models import Charge, QuoteAdjustment
from core.errors import Refusal
from ordering import services

STATES = ["draft", "submitted", "awaiting_signature", "provisioning", "active", "closed"]


def page(client, user, order) -> str:
    client.force_login(user)
    return client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("who", ["orderer_a", "signatory_a", "am_a"])
def test_the_emergency_request_form_is_offered_exactly_when_the_service_takes_it(cast, order_in, client, state, who):
    order = order_in(state)
    offered = f'action="{reverse("ordering:order_request_emergency_closure", args=[order.pk])}"' in page(
        client, getattr(cast, who), order
    )
    try:
        services.order_request_emergency_closure(order=order, actor=getattr(cast, who), reason="Sikkerhedsbrud")
        taken = True
    except Refusal:
        taken = False
    assert offered == taken


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("who", ["orderer_a", "am_a"])
def test_the_price_adjustment_is_offered_exactly_when_the_service_takes_it(cast, order_in, client, state, who):
    order = order_in(state)
    offered = f'action="{reverse("billing:quote_adjust", args=[order.pk])}' in page(client, getattr(cast, who), order)
    try:
        billing.quote_adjustment_add(
            order=order, actor=getattr(cast, who), kind="one_time", amount=-100, reason="Rabat"
        )
        taken = True
    except Refusal:
        taken = False
    assert offered == taken == QuoteAdjustment.objects.exists()


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("asked", [False, True])
def test_consulting_is_offered_exactly_when_the_service_takes_it(cast, order_in, client, state, asked):
    from ordering.consulting import consulting_request_create

    order = order_in(state)
    if asked and state != "closed":
        consulting_request_create(
            actor=cast.orderer_a, customer=cast.customer_a, order=order, kind="reactive", message="Hjælp"
        )
    offered = f'action="{reverse("billing:consulting", args=[order.pk])}' in page(client, cast.am_a, order)
    try:
        billing.consulting_record(order=order, actor=cast.am_a, on=timezone.localdate(), hours=1, description="Møde")
        taken = True
    except Refusal:
        taken = False
    assert offered == taken == Charge.objects.filter(kind="consulting").exists()
