"""E-mails per event go to the right people, after commit, once."""

import pytest
from django.core import mail
from django.db import transaction

from audit.models import AuditEvent
from ordering import services
from ordering.models import Notification
from ordering.notifications import notify_event

from ..conftest import accept_rendered


def recipients_of_last_event(outbox):
    return sorted(address for message in outbox for address in message.to)


@pytest.mark.parametrize(
    ("start", "action", "actor", "kwargs", "expected"),
    [
        ("draft", services.order_submit, "orderer_a", {}, ["am_a"]),
        ("submitted", services.order_issue_addendum, "am_a", {}, ["signatory_a"]),
        ("awaiting_signature", services.order_revise, "am_a", {"comment": "v2"}, ["signatory_a"]),
        ("awaiting_signature", accept_rendered, "signatory_a", {}, ["am_a", "orderer_a"]),
        ("provisioning", services.order_activate, "am_a", {}, ["orderer_a"]),
        ("active", services.order_request_closure, "orderer_a", {}, ["am_a"]),
        ("closure_requested", services.order_close, "am_a", {}, ["orderer_a"]),
        ("active", services.order_emergency_close, "support", {"reason": "Brud"}, ["am_a", "orderer_a", "signatory_a"]),
        ("submitted", services.order_return_for_changes, "am_a", {"comment": "Ret"}, ["orderer_a"]),
        ("submitted", services.order_reject, "am_a", {"comment": "Nej"}, ["orderer_a"]),
    ],
)
def test_each_event_mails_the_people_who_must_act_or_know(
    cast, order_in, django_capture_on_commit_callbacks, start, action, actor, kwargs, expected
):
    order = order_in(start)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        action(order=order, actor=getattr(cast, actor), **kwargs)
    assert recipients_of_last_event(mail.outbox) == [f"{name}@example.test" for name in expected]


def test_mails_never_reach_the_other_customer(cast, order_in, django_capture_on_commit_callbacks):
    order = order_in("active")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_emergency_close(order=order, actor=cast.support, reason="Brud")
    addresses = recipients_of_last_event(mail.outbox)
    assert not any(a.endswith("_b@example.test") for a in addresses)


def test_the_activation_mail_is_danish_and_has_a_text_for_the_vendor(
    cast, order_in, django_capture_on_commit_callbacks
):
    order = order_in("provisioning")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_activate(order=order, actor=cast.am_a)
    message = mail.outbox[0]
    assert message.subject == "Adgangen er etableret: VagtPlan"
    assert "Vagtdata A/S" in message.body
    assert "Opret Fravær" in message.body
    assert f"/orders/{order.pk}/" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<blockquote>" in html


def test_customer_text_in_mails_is_escaped_in_html(cast, order_in, django_capture_on_commit_callbacks):
    order = order_in("submitted")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_reject(order=order, actor=cast.am_a, comment="<script>alert(1)</script>")
    html = mail.outbox[0].alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>alert(1)</script>" in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_no_mail_leaves_for_a_transition_whose_transaction_rolled_back(cast, order_in):
    order = order_in("draft")
    mail.outbox.clear()
    events_before = AuditEvent.objects.count()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        services.order_submit(order=order, actor=cast.orderer_a)
        raise Boom

    assert mail.outbox == []
    assert AuditEvent.objects.count() == events_before
    order.refresh_from_db()
    assert order.state == "draft"

    services.order_submit(order=order, actor=cast.orderer_a)
    assert len(mail.outbox) == 1


def test_running_the_notification_task_again_sends_nothing_twice(cast, order_in, django_capture_on_commit_callbacks):
    order = order_in("active", system=cast.canteen, codes=("engangsydelser",))
    with django_capture_on_commit_callbacks(execute=True):
        services.order_emergency_close(order=order, actor=cast.support, reason="Brud")
    event = AuditEvent.objects.order_by("-seq").first()
    assert Notification.objects.filter(event=event).count() == 3
    mail.outbox.clear()
    assert notify_event(event.pk) == 0
    assert mail.outbox == []


def test_an_access_ended_by_the_change_that_replaces_it_mails_as_any_closing_does(
    cast, order_in, django_capture_on_commit_callbacks
):
    """One way to end an access (ordering/services/closure.py `_end_access`): the change order's activation closes the
    access it changes with the same audit event and the same e-mail as closing it by hand."""
    original = order_in("active", codes=("opret-fravaer",))
    change = order_in(
        "provisioning", codes=("opret-fravaer", "moedetidsplaner"), reason="change", changes_order=original
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.order_activate(order=change, actor=cast.am_a)
    about_original = [m for m in mail.outbox if original.reference in m.subject + m.body]
    assert about_original and all(m.to == ["orderer_a@example.test"] for m in about_original)
    assert Notification.objects.filter(event__order=original, event__kind="close").count() == 1
