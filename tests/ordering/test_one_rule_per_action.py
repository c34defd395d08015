"""Each action offered on a page has one `*_refusal()` predicate: the page offers the action exactly when the
service would take it (#20, part 3). Here for the emergency-closure request, the price adjustment, consulting,
the certificate upload and its rollover, and every lifecycle transition (ordering/transitions.py)."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from billing import services as billing
from billing.models import Charge, QuoteAdjustment
from certificates.models import Certificate, CertificateBundle
from certificates.services import certificate_rollover_confirm, certificate_upload
from core.errors import Refusal
from ordering import services
from ordering.models import AccessOrder, Addendum
from ordering.transitions import TRANSITIONS, transition_refusal
from tests.api.conftest import bearer, make_token
from tests.conftest import SIDE, acceptance, actors

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


# --- The certificate chain: upload and rollover (certificates/selectors.py) -------------------------

ALL_STATES = [*STATES[:-1], "closure_requested", "withdrawn", "rejected", "closed", "emergency_closed"]
PEOPLE = ["orderer_a", "signatory_a", "am_a", "support"]


class Undo(Exception):
    """Raised inside a savepoint to undo what a service did once it has been seen to take it."""


def taken(write) -> bool:
    """Whether the service takes the action (it is undone again), or refuses it."""
    try:
        with transaction.atomic():
            write()
            raise Undo
    except Undo:
        return True
    except Refusal:
        return False


def drive(cast, order, state: str):
    """An order that is `state` on its main path (or a draft), on to a side state (withdrawn, closed, …)."""
    side = SIDE.get(state)
    if side:
        _source, service, role, kwargs = side
        order = service(order=order, actor=actors(cast, cast.customer_a)[role], **kwargs)
    assert order.state == state
    return order


@pytest.fixture
def individual_in(cast, individual_order):
    def build(state: str):
        return drive(cast, individual_order(SIDE[state][0] if state in SIDE else state), state)

    return build


@pytest.mark.parametrize("state", ALL_STATES)
@pytest.mark.parametrize("who", PEOPLE)
def test_the_certificate_upload_is_offered_exactly_when_the_service_takes_it(
    cast, individual_in, client, good_bundle, state, who
):
    order = individual_in(state)
    offered = f'action="{reverse("certificates:upload", args=[order.pk])}"' in page(client, getattr(cast, who), order)
    before = CertificateBundle.objects.count()
    assert offered == taken(
        lambda: certificate_upload(order=order, actor=getattr(cast, who), data=good_bundle, filename="kaede.zip")
    )
    assert offered == (who == "orderer_a" and state in ("draft", "active"))
    assert CertificateBundle.objects.count() == before


@pytest.mark.parametrize("who", PEOPLE)
def test_a_standard_integration_offers_no_certificate_upload_and_the_service_takes_none(
    cast, order_in, client, good_bundle, who
):
    order = order_in("draft")
    assert f"{reverse('certificates:upload', args=[order.pk])}" not in page(client, getattr(cast, who), order)
    assert not taken(
        lambda: certificate_upload(order=order, actor=getattr(cast, who), data=good_bundle, filename="kaede.zip")
    )


# The situations of a waiting chain: none, one waiting, one waiting on an access no longer active, one expired.
ROLLOVER = ["active, none waiting", "active, waiting", "closure_requested, waiting", "active, waiting but expired"]


@pytest.mark.parametrize("situation", ROLLOVER)
@pytest.mark.parametrize("who", PEOPLE)
def test_the_rollover_is_offered_exactly_when_the_service_takes_it(
    cast, individual_order, client, good_bundle, situation, who
):
    order = individual_order("active")
    if "none" not in situation:
        certificate_upload(order=order, actor=cast.orderer_a, data=good_bundle, filename="ny-kaede.zip")
    if situation.startswith("closure_requested"):
        order = services.order_request_closure(order=order, actor=cast.orderer_a)
    if "expired" in situation:
        gone = timezone.now() - datetime.timedelta(days=1)
        Certificate.objects.filter(bundle__status="pending", role="leaf").update(not_after=gone)
    body = page(client, getattr(cast, who), order)
    offered = f'action="{reverse("certificates:confirm_rollover", args=[order.pk])}"' in body
    assert offered == taken(lambda: certificate_rollover_confirm(order=order, actor=getattr(cast, who)))
    assert offered == (who == "am_a" and situation == "active, waiting")
    if who == "am_a" and situation == "active, waiting but expired":
        assert "Det nye certifikat er udløbet i mellemtiden; bed kunden uploade et gyldigt." in body


# --- Every lifecycle transition (ordering/transitions.py transition_refusal) -----------------------

# Each state an order can be in, and the situations within a state that an action's precondition tells apart.
SITUATIONS = [
    *(s for s in ALL_STATES if s != "awaiting_signature"),
    "awaiting_signature, document being made",
    "awaiting_signature, document readable",
    "active, closure scheduled",
    "closure_requested, closure scheduled",
]


def in_situation(cast, order_in, situation: str):
    state, _comma, detail = situation.partition(", ")
    order = drive(cast, order_in(SIDE[state][0] if state in SIDE else state), state)
    if detail == "document readable":
        services.addendum_render(order.addenda.get(status=Addendum.Status.ISSUED).pk)
    if detail == "closure scheduled":
        order = services.order_schedule_closure(
            order=order, actor=cast.am_a, on=timezone.localdate() + datetime.timedelta(days=30)
        )
    return AccessOrder.objects.get(pk=order.pk)


def arguments(name: str, order) -> dict:
    """What each service needs besides the order and the actor, valid: the refusal, if any, is the rule's."""
    if name == "accept":
        issued = order.addenda.filter(status=Addendum.Status.ISSUED, render_status="ready").exists()
        return (
            acceptance(order)
            if issued
            else {"document_sha256": "0" * 64, "signer_name": "Tove", "signer_title": "HR-chef", "authorised": True}
        )
    if name == "schedule_closure":
        return {"on": timezone.localdate() + datetime.timedelta(days=60)}
    if name == "emergency_close":
        return {"reason": "Sikkerhedsbrud"}
    if name in ("return_for_changes", "reject", "revise", "decline"):
        return {"comment": "Sådan er det"}
    return {}


@pytest.mark.parametrize("situation", SITUATIONS)
def test_every_transition_is_offered_exactly_when_the_service_takes_it(cast, order_in, client, situation):
    order = in_situation(cast, order_in, situation)
    events = AuditEvent.objects.filter(order=order).count()
    offered_to_anyone = set()
    for who in PEOPLE:
        user = getattr(cast, who)
        body = page(client, user, order)
        on_page = {n for n in TRANSITIONS if reverse("ordering:order_transition", args=[order.pk, n]) in body}
        listed = bearer(make_token(user)).get(f"/api/v1/orders/{order.pk}/").json()["actions"]
        run = {
            name
            for name, spec in TRANSITIONS.items()
            if taken(
                lambda spec=spec, name=name, user=user: spec.run(
                    order=AccessOrder.objects.get(pk=order.pk), actor=user, **arguments(name, order)
                )
            )
        }
        allowed = {n for n in TRANSITIONS if transition_refusal(order, user, n) is None}
        assert on_page == run == set(listed) == allowed, who
        offered_to_anyone |= on_page
    assert AuditEvent.objects.filter(order=order).count() == events  # every write was undone
    # Each situation where the order is not over offers someone something; an ended order offers nothing.
    assert bool(offered_to_anyone) == (order.state not in ("withdrawn", "rejected", "closed", "emergency_closed"))
    # The preconditions: a document to read before accepting, a scheduled closure before cancelling it.
    assert ("accept" in offered_to_anyone) == (situation == "awaiting_signature, document readable")
    assert ("cancel_scheduled_closure" in offered_to_anyone) == situation.endswith("closure scheduled")


def test_the_refusal_says_why_an_action_is_not_offered(cast, order_in):
    order = order_in("awaiting_signature")  # its document is still being made
    assert transition_refusal(order, cast.orderer_a, "submit").message == (
        "Det kan ikke lade sig gøre, mens bestillingen er „Afventer accept“."
    )
    assert transition_refusal(order, cast.orderer_a, "accept").message == (
        "Du har ikke den rolle, der skal til for at gøre dette på kundens bestilling."
    )
    assert transition_refusal(order, cast.signatory_a, "accept").message == (
        "Tillægget er ikke dannet endnu. Vent, til det kan åbnes, og læs det først."
    )
    assert transition_refusal(order, cast.signatory_a, "decline") is None
