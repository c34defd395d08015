"""An endpoint given to another customer or another URL is a new endpoint to its receiver: a new signing
secret, and nothing that was waiting for the old receiver goes to the new one. A catalogue admin can also
rotate a secret at any time."""

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from standardwebhooks import Webhook

from audit.models import AuditEvent
from core.errors import NotPermitted
from core.models import OutboxMessage
from core.outbox import outbox_deliver
from tests.conftest import make_order, make_user
from webhooks import services as webhooks
from webhooks import transport
from webhooks.models import WebhookDelivery, WebhookEndpoint


@pytest.fixture
def admin_user(db):
    return make_user("admin", is_staff=True, is_superuser=True)


@pytest.fixture
def itsm(cast, receiver):
    """Customer A's ITSM endpoint with two webhooks not yet delivered: one waiting, one given up."""
    made = WebhookEndpoint.objects.create(
        url=receiver.url("/itsm-a"), description="ITSM", customer=cast.customer_a, kinds=["create"]
    )
    receiver.listen("/itsm-a", made.secret)
    make_order(cast, "draft")  # queued; the commit callbacks (and so the sending) do not run here
    make_order(cast, "draft")
    waiting, given_up = WebhookDelivery.objects.filter(endpoint=made).order_by("pk")
    WebhookDelivery.objects.filter(pk=given_up.pk).update(status="dead")
    messages_of([given_up]).update(status="dead")
    return made


def messages_of(deliveries):
    return OutboxMessage.objects.filter(
        handler=webhooks.DELIVER, payload__delivery_id__in=[delivery.pk for delivery in deliveries]
    )


def change_in_the_admin(client, admin_user, endpoint, **changes):
    client.force_login(admin_user)
    form = {
        "url": endpoint.url,
        "description": endpoint.description,
        "customer": endpoint.customer_id or "",
        "kinds": endpoint.kinds,
        "is_active": "on",
        **changes,
    }
    answer = client.post(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]), form)
    assert answer.status_code == 302, answer.content.decode()[:2000]
    return client.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk])).content.decode()


def try_to_send_everything(deliveries) -> None:
    """What a worker would do with the outbox messages and deliveries, were any still due."""
    OutboxMessage.objects.filter(handler=webhooks.DELIVER).update(next_attempt_at=timezone.now())
    for message in messages_of(deliveries):
        assert not outbox_deliver(message.pk)
    for delivery in deliveries:
        assert not webhooks.webhook_deliver(delivery.pk)


def test_an_endpoint_given_to_another_customer_gets_a_new_secret_and_sends_nothing_that_was_waiting(
    cast, receiver, client, admin_user, itsm
):
    old_secret = itsm.secret
    deliveries = list(WebhookDelivery.objects.filter(endpoint=itsm))

    page = change_in_the_admin(client, admin_user, itsm, customer=cast.customer_b.pk)

    itsm.refresh_from_db()
    assert itsm.customer == cast.customer_b
    assert itsm.secret != old_secret and itsm.secret.startswith("whsec_")
    assert itsm.secret in page and old_secret not in page  # the admin shows the new secret, as when it was added
    assert {d.status for d in WebhookDelivery.objects.filter(endpoint=itsm)} == {"cancelled"}
    # Closed as cancelled, not as delivered: nothing was sent, and nothing waits for support.
    assert set(messages_of(deliveries).values_list("status", flat=True)) == {"cancelled"}
    assert not messages_of(deliveries).filter(delivered_at__isnull=False).exists()
    try_to_send_everything(deliveries)
    assert receiver.received == []
    # The audit trail records who moved it and how many waiting webhooks that cancelled; never the secret.
    moved = AuditEvent.objects.get(kind="webhook_endpoint_moved", subject_id=str(itsm.pk))
    assert moved.actor == admin_user and moved.actor_role == "catalogue_admin"
    assert moved.params == {"webhooks_cancelled": len(deliveries)}
    assert itsm.secret not in str(moved.params) and old_secret not in str(moved.params)
    with translation.override("en"):
        assert moved.comment_for_reader == f"Waiting webhooks cancelled: {len(deliveries)}."


def test_an_endpoint_given_another_url_gets_a_new_secret_and_sends_nothing_that_was_waiting(
    cast, receiver, client, admin_user, itsm
):
    old_secret = itsm.secret
    deliveries = list(WebhookDelivery.objects.filter(endpoint=itsm))
    receiver.listen("/elsewhere", old_secret)

    page = change_in_the_admin(client, admin_user, itsm, url=receiver.url("/elsewhere"))

    itsm.refresh_from_db()
    assert itsm.url == receiver.url("/elsewhere")
    assert itsm.secret != old_secret and itsm.secret in page
    assert {d.status for d in WebhookDelivery.objects.filter(endpoint=itsm)} == {"cancelled"}
    assert set(messages_of(deliveries).values_list("status", flat=True)) == {"cancelled"}  # never "delivered"
    try_to_send_everything(deliveries)
    assert receiver.received == []
    # A delivery cancelled this way is not what support is asked to send again.
    client.force_login(cast.support)
    assert "Webhook evt_" not in client.get(reverse("core:outbox_dead_letters")).content.decode()


def test_a_description_change_keeps_the_secret_and_the_waiting_webhooks(cast, receiver, client, admin_user, itsm):
    old_secret = itsm.secret
    waiting = WebhookDelivery.objects.get(endpoint=itsm, status="pending")

    change_in_the_admin(client, admin_user, itsm, description="ITSM, the new one")

    itsm.refresh_from_db()
    assert (itsm.description, itsm.secret) == ("ITSM, the new one", old_secret)
    assert sorted(WebhookDelivery.objects.filter(endpoint=itsm).values_list("status", flat=True)) == [
        "dead",
        "pending",
    ]
    assert set(messages_of([waiting]).values_list("status", flat=True)) == {"pending"}
    OutboxMessage.objects.filter(handler=webhooks.DELIVER).update(next_attempt_at=timezone.now())
    [message] = messages_of([waiting])
    assert outbox_deliver(message.pk)
    [got] = receiver.at("/itsm-a")
    assert got.verified and got.webhook_id == waiting.webhook_id


def test_an_attempt_on_its_way_when_the_endpoint_moves_leaves_its_delivery_cancelled(
    cast, receiver, admin_user, itsm, monkeypatch
):
    waiting = WebhookDelivery.objects.get(endpoint=itsm, status="pending")

    def moved_meanwhile(url, body, headers):
        itsm.customer = cast.customer_b
        webhooks.webhook_endpoint_save(endpoint=itsm, actor=admin_user)
        raise ConnectionRefusedError("the old receiver is gone")

    monkeypatch.setattr(transport, "post", moved_meanwhile)
    with pytest.raises(webhooks.WebhookFailed):
        webhooks.webhook_deliver(waiting.pk)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.attempts) == ("cancelled", 1)


def test_a_catalogue_admin_rotates_a_secret_in_the_admin_and_it_is_logged(cast, receiver, client, admin_user, itsm):
    old_secret = itsm.secret
    waiting = WebhookDelivery.objects.get(endpoint=itsm, status="pending")
    client.force_login(admin_user)
    changelist = reverse("admin:webhooks_webhookendpoint_changelist")

    answer = client.post(changelist, {"action": "rotate_secret", "_selected_action": [itsm.pk]})

    assert answer.status_code == 302
    itsm.refresh_from_db()
    assert itsm.secret != old_secret and itsm.secret.startswith("whsec_")
    page = client.get(reverse("admin:webhooks_webhookendpoint_change", args=[itsm.pk])).content.decode()
    assert itsm.secret in page
    rotated = AuditEvent.objects.get(kind="webhook_secret_rotated", subject_id=str(itsm.pk))
    assert rotated.actor == admin_user and rotated.params == {} and rotated.comment == ""
    # Nothing is cancelled: what is waiting is signed with the new secret when it is sent.
    waiting.refresh_from_db()
    assert waiting.status == "pending"
    receiver.listen("/itsm-a", itsm.secret)
    assert webhooks.webhook_deliver(waiting.pk)
    [got] = receiver.at("/itsm-a")
    assert got.verified and Webhook(itsm.secret).verify(got.body, got.headers)


def test_only_a_catalogue_admin_may_rotate_a_secret_or_change_an_endpoint(cast, itsm):
    secret = itsm.secret
    for someone in (cast.support, cast.am_a, cast.orderer_a):
        with pytest.raises(NotPermitted):
            webhooks.webhook_endpoint_rotate_secret(endpoint=itsm, actor=someone)
        itsm.customer = cast.customer_b
        with pytest.raises(NotPermitted):
            webhooks.webhook_endpoint_save(endpoint=itsm, actor=someone)
    itsm.refresh_from_db()
    assert (itsm.customer, itsm.secret) == (cast.customer_a, secret)
    assert WebhookDelivery.objects.filter(endpoint=itsm, status="cancelled").count() == 0
