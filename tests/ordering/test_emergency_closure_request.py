"""The customer asks support for an emergency closure; support see it first and are e-mailed at once.

The source, "Lukning af adgang": "Hvis I har behov for akut lukning af adgangen (eks. ifm. sikkerhedsbrud hos
ekstern leverandør), så skal I kontakte supporten på KMD Opus Personale."
"""

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from ordering import services
from ordering.models import AccessOrder

PEOPLE = ["orderer_a", "signatory_a", "am_a", "support", "am_b", "orderer_b", "signatory_b", "outsider"]
BREACH = "Leverandøren har meldt et sikkerhedsbrud."


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()


@pytest.mark.parametrize("person", ["orderer_a", "signatory_a"])
def test_orderer_or_signatory_asks_support_and_support_are_emailed_at_once(
    cast, order_in, django_capture_on_commit_callbacks, person
):
    """The source: "Hvis I har behov for akut lukning af adgangen (eks. ifm. sikkerhedsbrud hos ekstern leverandør), så skal
    I kontakte supporten på KMD Opus Personale." The request reaches support (and the account manager) by
    e-mail at once; the access runs until support close it."""
    order = order_in("active")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        asked = services.order_request_emergency_closure(order=order, actor=getattr(cast, person), reason=BREACH)
    assert asked.state == "active"
    assert (asked.emergency_request_reason, asked.emergency_requested_at is not None) == (BREACH, True)
    event = last_event()
    assert (event.kind, event.actor, event.actor_role, event.comment) == (
        "emergency_closure_requested",
        getattr(cast, person),
        person.removesuffix("_a"),
        BREACH,
    )
    assert sorted(address for m in mail.outbox for address in m.to) == ["am_a@example.test", "support@example.test"]
    message = next(m for m in mail.outbox if m.to == ["support@example.test"])
    assert "akut lukning" in message.subject and BREACH in message.body


@pytest.mark.parametrize("state", ["closed", "emergency_closed"])
def test_a_request_on_an_access_already_closed_is_refused_clearly(cast, order_in, state):
    """The source: "Hvis I har behov for akut lukning af adgangen …": a closed access has nothing left to close, and the
    customer is told so rather than support being alarmed."""
    order = order_in(state)
    events = AuditEvent.objects.count()
    with pytest.raises(services.NotAllowedNow, match="Adgangen er allerede lukket"):
        services.order_request_emergency_closure(order=order, actor=cast.orderer_a, reason=BREACH)
    assert AuditEvent.objects.count() == events
    assert AccessOrder.objects.get(pk=order.pk).emergency_requested_at is None


@pytest.mark.parametrize("state", ["draft", "submitted", "withdrawn"])
def test_a_request_on_an_order_without_access_is_refused(cast, order_in, state):
    order = order_in(state)
    with pytest.raises(services.NotAllowedNow, match="giver ingen adgang"):
        services.order_request_emergency_closure(order=order, actor=cast.orderer_a, reason=BREACH)


def test_a_second_request_is_refused_and_points_to_the_phone(cast, order_in):
    order = order_in("active")
    order = services.order_request_emergency_closure(order=order, actor=cast.orderer_a, reason=BREACH)
    with pytest.raises(services.NotAllowedNow, match="allerede anmodet om akut lukning.*Ring"):
        services.order_request_emergency_closure(order=order, actor=cast.signatory_a, reason="Igen")


def test_a_request_needs_a_reason(cast, order_in):
    with pytest.raises(services.Invalid):
        services.order_request_emergency_closure(order=order_in("active"), actor=cast.orderer_a, reason="  ")


@pytest.mark.parametrize("person", PEOPLE)
def test_only_the_customers_orderer_or_signatory_may_request_an_emergency_closure(cast, order_in, person):
    order = order_in("active")
    events = AuditEvent.objects.count()
    actor = getattr(cast, person)
    if person in ("orderer_a", "signatory_a"):
        services.order_request_emergency_closure(order=order, actor=actor, reason=BREACH)
        assert (last_event().kind, last_event().actor) == ("emergency_closure_requested", actor)
    else:
        with pytest.raises(services.NotPermitted):
            services.order_request_emergency_closure(order=order, actor=actor, reason=BREACH)
        assert AuditEvent.objects.count() == events
        assert AccessOrder.objects.get(pk=order.pk).emergency_requested_at is None


def test_support_see_the_request_at_the_top_of_their_start_page_and_then_emergency_close(cast, order_in, client):
    """The source: "… så skal I kontakte supporten på KMD Opus Personale": support find it first, with the reason, and
    close it with the existing emergency closure, which starts from the customer's reason."""
    order = services.order_request_emergency_closure(order=order_in("active"), actor=cast.orderer_a, reason=BREACH)
    client.force_login(cast.support)
    home = client.get(reverse("home")).content.decode()
    assert home.index(BREACH) < home.index('id="support-results"')
    assert f'href="/orders/{order.pk}/#action-emergency_close"' in home or "#action-emergency_close" in home

    page = client.get(reverse("ordering:order_detail", args=[order.pk]))
    form = next(f for f in page.context["action_forms"] if f.spec.name == "emergency_close")
    assert form.initial["comment"] == BREACH
    client.post(
        reverse("ordering:order_transition", args=[order.pk, "emergency_close"]),
        {"expected_state": "active", "comment": BREACH, "confirm": "on"},
    )
    assert AccessOrder.objects.get(pk=order.pk).state == "emergency_closed"
    assert BREACH not in client.get(reverse("home")).content.decode().split('id="support-results"')[0]


def test_the_customer_sees_supports_phone_and_email_next_to_the_request_and_on_the_start_page(
    cast, order_in, client, settings
):
    """The source: "… så skal I kontakte supporten på KMD Opus Personale": the customer is shown how to reach them."""
    settings.SUPPORT_PHONE = "+45 11 22 33 44"
    settings.SUPPORT_EMAIL = "opus-support@example.test"
    order = order_in("active")
    client.force_login(cast.signatory_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    request_form = page[page.index('id="emergency-request-heading"') :]
    assert "+45 11 22 33 44" in request_form and "mailto:opus-support@example.test" in request_form
    assert 'id="emergency-request"' in request_form
    home = client.get(reverse("home")).content.decode()
    assert "+45 11 22 33 44" in home and "opus-support@example.test" in home


def test_the_request_is_made_through_the_order_page(cast, order_in, client):
    order = order_in("active")
    client.force_login(cast.orderer_a)
    url = reverse("ordering:order_request_emergency_closure", args=[order.pk])
    assert client.post(url, {"reason": ""}).status_code == 400
    response = client.post(url, {"reason": BREACH})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.emergency_request_reason == BREACH
    page = client.get(response["Location"]).content.decode()
    assert 'id="emergency-request"' not in page  # asked once; the page says when instead


def test_a_request_on_a_closed_access_through_the_page_is_refused_with_a_sentence(cast, order_in, client):
    order = order_in("closed")
    client.force_login(cast.orderer_a)
    response = client.post(
        reverse("ordering:order_request_emergency_closure", args=[order.pk]), {"reason": BREACH}, follow=True
    )
    told = [str(m) for m in response.context["messages"]]
    assert len(told) == 1 and "allerede lukket" in told[0]


def test_another_customers_people_cannot_reach_the_request(cast, order_in, client):
    order = order_in("active")
    client.force_login(cast.orderer_b)
    response = client.post(reverse("ordering:order_request_emergency_closure", args=[order.pk]), {"reason": BREACH})
    assert response.status_code == 404
    assert AccessOrder.objects.get(pk=order.pk).emergency_requested_at is None
