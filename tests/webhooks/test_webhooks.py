"""Signed webhooks: what is sent, to whom, how it is signed, retried, given up and sent again."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from standardwebhooks import Webhook, WebhookVerificationError

from audit.models import AuditEvent
from audit.trail import audit_record
from billing.audit import BillingAuditKind
from core.models import OutboxMessage
from core.outbox import handler_named, outbox_deliver
from ordering import services
from ordering.audit import AuditKind
from tests.conftest import make_order, make_user
from webhooks import services as webhooks
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint(receiver, path, *, customer=None, kinds=(), **answer) -> WebhookEndpoint:
    made = WebhookEndpoint.objects.create(url=receiver.url(path), customer=customer, kinds=list(kinds))
    receiver.listen(path, made.secret, **answer)
    return made


def make_due(delivery: WebhookDelivery) -> OutboxMessage:
    """Skip the back-off: the outbox message of this delivery is due now."""
    message = OutboxMessage.objects.get(handler=webhooks.DELIVER, payload__delivery_id=delivery.pk, status="pending")
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    return message


def test_a_submitted_order_reaches_its_customers_endpoint_signed(
    cast, receiver, settings, django_capture_on_commit_callbacks
):
    itsm = endpoint(receiver, "/itsm-a", customer=cast.customer_a, kinds=["submit"])
    draft = make_order(cast, "draft")
    with django_capture_on_commit_callbacks(execute=True):
        order = services.order_submit(order=draft, actor=cast.orderer_a)

    [got] = receiver.at("/itsm-a")
    assert got.verified
    event = order.events.get(kind="submit")
    assert got.webhook_id == f"evt_{event.seq}"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-signature"].startswith("v1,")
    assert Webhook(itsm.secret).verify(got.body, got.headers) == got.payload
    assert got.payload == {
        "type": "order.submit",
        "timestamp": got.payload["timestamp"],
        "data": {
            "event": {
                "seq": event.seq,
                "kind": "submit",
                "occurred_at": got.payload["timestamp"],
                "actor_role": "orderer",
            },
            "order": {
                "id": order.pk,
                "reference": order.reference,
                "url": settings.SITE_URL + reverse("ordering:order_detail", args=[order.pk]),
                "environment": "production",
                "state_from": "draft",
                "state_to": "submitted",
            },
            "external_system": {"id": cast.rostering.pk, "name": "VagtPlan", "vendor_cvr": "31415926"},
            "customer": {"cvr": "55133018"},
        },
    }
    assert got.payload["timestamp"].endswith("Z")
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [200]


def test_an_orders_creation_comes_from_no_state(cast, receiver, django_capture_on_commit_callbacks):
    endpoint(receiver, "/itsm-a", customer=cast.customer_a, kinds=["create"])
    with django_capture_on_commit_callbacks(execute=True):
        make_order(cast, "draft")

    [got] = receiver.at("/itsm-a")
    assert got.payload["data"]["order"]["state_from"] is None
    assert got.payload["data"]["order"]["state_to"] == "draft"


def test_a_tampered_body_id_or_timestamp_or_another_secret_fails_verification(
    cast, receiver, django_capture_on_commit_callbacks
):
    itsm = endpoint(receiver, "/itsm-a", customer=cast.customer_a)
    with django_capture_on_commit_callbacks(execute=True):
        make_order(cast, "draft")
    [got] = receiver.at("/itsm-a")
    verifier = Webhook(itsm.secret)
    assert verifier.verify(got.body, got.headers)["type"] == "order.create"

    tampered = got.body.replace(b'"order.create"', b'"order.close"')
    with pytest.raises(WebhookVerificationError):
        verifier.verify(tampered, got.headers)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(got.body, {**got.headers, "webhook-id": "evt_999999"})
    with pytest.raises(WebhookVerificationError):
        verifier.verify(got.body, {**got.headers, "webhook-timestamp": str(int(got.headers["webhook-timestamp"]) - 1)})
    with pytest.raises(WebhookVerificationError):
        Webhook(webhooks.WebhookEndpoint().secret).verify(got.body, got.headers)  # a fresh, different secret

    # The raw recipe in README.md, without the library: base64(HMAC-SHA256(key, "id.timestamp.body")).
    key = base64.b64decode(itsm.secret.removeprefix("whsec_"))
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}.".encode() + got.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert got.headers["webhook-signature"] == f"v1,{expected}"


def test_each_customers_endpoint_gets_only_its_own_events_of_every_kind_and_kmd_gets_all(
    cast, receiver, django_capture_on_commit_callbacks
):
    ours = endpoint(receiver, "/a", customer=cast.customer_a)
    theirs = endpoint(receiver, "/b", customer=cast.customer_b)
    kmd = endpoint(receiver, "/kmd")
    order_a = make_order(cast, "draft")
    order_b = make_order(cast, "draft", customer=cast.customer_b)
    WebhookDelivery.objects.all().delete()
    receiver.received.clear()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for kind in AuditKind:
            audit_record(kind=kind, actor=cast.orderer_b, role="orderer", order=order_b)
        for kind in AuditKind:
            audit_record(kind=kind, actor=cast.orderer_a, role="orderer", order=order_a)
        # An event about no customer: only KMD's endpoints hear of it.
        audit_record(kind=BillingAuditKind.PRICE_LIST_CHANGED, actor=cast.am_a, role="", subject=cast.price_list)

    every = sorted(AuditKind.values)
    assert sorted(WebhookDelivery.objects.filter(endpoint=ours).values_list("kind", flat=True)) == every
    assert sorted(WebhookDelivery.objects.filter(endpoint=theirs).values_list("kind", flat=True)) == every
    assert WebhookDelivery.objects.filter(endpoint=kmd).count() == 2 * len(every) + 1
    assert {r.payload["data"]["customer"]["cvr"] for r in receiver.at("/a")} == {cast.customer_a.cvr}
    assert {r.payload["data"]["order"]["id"] for r in receiver.at("/a")} == {order_a.pk}
    assert {r.payload["data"]["customer"]["cvr"] for r in receiver.at("/b")} == {cast.customer_b.cvr}
    assert len(receiver.at("/a")) == len(receiver.at("/b")) == len(every)
    catalogue = [r.payload for r in receiver.at("/kmd") if "order" not in r.payload["data"]]
    assert [p["type"] for p in catalogue] == ["catalogue.price_list_changed"]
    assert "customer" not in catalogue[0]["data"]
    assert all(r.verified for r in receiver.received)


def test_a_system_a_customer_registers_goes_to_that_customer_only(cast, receiver, django_capture_on_commit_callbacks):
    endpoint(receiver, "/a", customer=cast.customer_a)
    endpoint(receiver, "/b", customer=cast.customer_b)
    with django_capture_on_commit_callbacks(execute=True):
        services.external_system_register(
            actor=cast.orderer_a,
            customer=cast.customer_a,
            name="Vagtværktøj",
            vendor_name="Lokal IT ApS",
            vendor_cvr="10000009",
            vendor_email="it@example.test",
            category="other",
            description="",
        )
    [got] = receiver.at("/a")
    assert got.payload["type"] == "catalogue.system_registered"
    assert got.payload["data"]["customer"] == {"cvr": cast.customer_a.cvr}
    assert receiver.at("/b") == []


def test_an_endpoint_gets_only_the_kinds_it_subscribes_to_and_an_inactive_one_nothing(
    cast, receiver, django_capture_on_commit_callbacks
):
    endpoint(receiver, "/submits", customer=cast.customer_a, kinds=["submit", "withdraw"])
    sleeping = endpoint(receiver, "/inactive", customer=cast.customer_a)
    sleeping.is_active = False
    sleeping.save()
    with django_capture_on_commit_callbacks(execute=True):
        make_order(cast, "withdrawn")
    assert [r.payload["type"] for r in receiver.at("/submits")] == ["order.submit", "order.withdraw"]
    assert receiver.at("/inactive") == []
    assert not WebhookDelivery.objects.filter(endpoint=sleeping).exists()


def test_the_payload_carries_no_comments_or_names(cast, receiver, django_capture_on_commit_callbacks):
    endpoint(receiver, "/kmd", kinds=["reject"])
    order = make_order(cast, "submitted")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_reject(order=order, actor=cast.am_a, comment="Tove Tegner har ikke underskrevet")
    [got] = receiver.at("/kmd")
    body = got.body.decode()
    assert "Tove Tegner" not in body and "underskrevet" not in body  # the comment
    assert "am_a" not in body and "example.test" not in body  # who did it
    assert set(got.payload["data"]["event"]) == {"seq", "kind", "occurred_at", "actor_role"}
    assert got.payload["data"]["order"]["state_to"] == "rejected"


def test_a_write_that_rolls_back_queues_and_sends_nothing(cast, receiver, django_capture_on_commit_callbacks):
    endpoint(receiver, "/a", customer=cast.customer_a)
    draft = make_order(cast, "draft")
    before = (WebhookDelivery.objects.count(), OutboxMessage.objects.filter(handler=webhooks.DELIVER).count())
    receiver.received.clear()

    with (
        pytest.raises(ZeroDivisionError),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        transaction.atomic(),
    ):
        services.order_submit(order=draft, actor=cast.orderer_a)
        1 / 0  # noqa: B018 - the write fails after its audit event
    assert callbacks == []
    assert (WebhookDelivery.objects.count(), OutboxMessage.objects.filter(handler=webhooks.DELIVER).count()) == before
    assert receiver.received == []


def test_the_webhook_id_stays_the_same_across_retries_and_redelivery(
    cast, receiver, settings, django_capture_on_commit_callbacks
):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    itsm = endpoint(receiver, "/flaky", customer=cast.customer_a, kinds=["submit"], status=503, body=b"busy")
    draft = make_order(cast, "draft")
    with django_capture_on_commit_callbacks(execute=True):
        services.order_submit(order=draft, actor=cast.orderer_a)
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 503)
    assert delivery.last_error == "HTTP 503: busy"
    message = OutboxMessage.objects.get(handler=webhooks.DELIVER, payload__delivery_id=delivery.pk)
    assert (message.status, message.attempts) == ("pending", 1)  # waiting for its back-off
    assert message.next_attempt_at > timezone.now() + timedelta(seconds=settings.OUTBOX_BACKOFF_SECONDS - 5)

    receiver.routes["/flaky"].status = 204
    assert outbox_deliver(make_due(delivery).pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)

    with django_capture_on_commit_callbacks(execute=True):
        webhooks.webhook_redeliver(delivery=delivery, actor=admin)
    got = receiver.at("/flaky")
    assert len(got) == 3 and all(r.verified for r in got)
    assert {r.webhook_id for r in got} == {delivery.webhook_id}
    assert len({r.body for r in got}) == 1  # the same bytes every time
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)
    assert list(delivery.attempt_log.order_by("pk").values_list("status_code", flat=True)) == [503, 204, 204]


def test_a_catalogue_admin_sends_a_webhook_again_from_the_admin_and_it_is_logged(
    cast, receiver, client, django_capture_on_commit_callbacks
):
    admin = make_user("admin", is_staff=True, is_superuser=True)
    itsm = endpoint(receiver, "/a", customer=cast.customer_a, kinds=["create"])
    with django_capture_on_commit_callbacks(execute=True):
        make_order(cast, "draft")
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    client.force_login(admin)
    changelist = reverse("admin:webhooks_webhookdelivery_changelist")
    assert client.get(changelist, {"status__exact": "delivered", "kind": "create"}).status_code == 200
    assert client.get(reverse("admin:webhooks_webhookdelivery_change", args=[delivery.pk])).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(changelist, {"action": "redeliver", "_selected_action": [delivery.pk]})
    assert answer.status_code == 302
    assert [r.webhook_id for r in receiver.at("/a")] == [delivery.webhook_id] * 2
    again = AuditEvent.objects.get(kind="webhook_sent_again", subject_id=str(delivery.pk))
    assert again.actor == admin and again.order is None


def test_only_a_catalogue_admin_may_send_a_webhook_again(cast, receiver, django_capture_on_commit_callbacks):
    from core.errors import NotPermitted

    endpoint(receiver, "/a", customer=cast.customer_a)
    with django_capture_on_commit_callbacks(execute=True):
        make_order(cast, "draft")
    delivery = WebhookDelivery.objects.get()
    for someone in (cast.support, cast.am_a, cast.orderer_a):
        with pytest.raises(NotPermitted):
            webhooks.webhook_redeliver(delivery=delivery, actor=someone)


def test_after_the_last_attempt_the_delivery_is_dead_and_support_sees_it(
    cast, receiver, client, monkeypatch, django_capture_on_commit_callbacks
):
    import dataclasses

    from core import outbox

    handler = handler_named(webhooks.DELIVER)
    monkeypatch.setitem(outbox._handlers, webhooks.DELIVER, dataclasses.replace(handler, max_attempts=2))
    itsm = endpoint(receiver, "/down", customer=cast.customer_a, kinds=["create"], status=500, body=b"x" * 100_000)
    with django_capture_on_commit_callbacks(execute=True):
        order = make_order(cast, "draft")
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    assert not outbox_deliver(make_due(delivery).pk)

    delivery.refresh_from_db()
    message = OutboxMessage.objects.get(handler=webhooks.DELIVER, payload__delivery_id=delivery.pk)
    assert (message.status, message.attempts) == ("dead", 2)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("dead", 2, 500)
    assert len(delivery.last_error) <= 500
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2
    client.force_login(cast.support)
    page = client.get(reverse("core:outbox_dead_letters")).content.decode()
    assert f"Webhook {delivery.webhook_id}" in page
    assert reverse("ordering:order_detail", args=[order.pk]) in page

    # Support sends it again once the receiver is back: the same id, and the delivery is delivered.
    receiver.routes["/down"].status = 200
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("core:outbox_send_again", args=[message.pk]))
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert {r.webhook_id for r in receiver.at("/down")} == {delivery.webhook_id}


def test_a_redirect_is_not_followed(cast, receiver, django_capture_on_commit_callbacks):
    itsm = endpoint(receiver, "/moved", customer=cast.customer_a, kinds=["create"], status=302)
    receiver.routes["/moved"].headers = {"Location": receiver.listen("/elsewhere", itsm.secret)}
    with django_capture_on_commit_callbacks(execute=True):
        make_order(cast, "draft")
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    assert (delivery.status, delivery.last_status_code) == ("pending", 302)
    assert receiver.at("/elsewhere") == []


def test_a_receiver_slower_than_the_timeout_is_a_failed_attempt(
    cast, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    itsm = endpoint(receiver, "/slow", customer=cast.customer_a, kinds=["create"], delay=2)
    with django_capture_on_commit_callbacks(execute=True):
        make_order(cast, "draft")
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    assert delivery.status == "pending"
    assert "timed out" in delivery.last_error or "TimeoutError" in delivery.last_error


def test_a_deactivated_endpoint_gets_nothing_already_queued(cast, receiver, django_capture_on_commit_callbacks):
    itsm = endpoint(receiver, "/a", customer=cast.customer_a, kinds=["create"])
    make_order(cast, "draft")  # queued, not yet sent (no commit callbacks run)
    WebhookEndpoint.objects.filter(pk=itsm.pk).update(is_active=False)
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    webhooks.webhook_deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "cancelled"
    assert receiver.received == []


def test_an_endpoint_moved_to_another_customer_gets_nothing_already_queued(cast, receiver):
    itsm = endpoint(receiver, "/a", customer=cast.customer_a, kinds=["create"])
    make_order(cast, "draft")
    WebhookEndpoint.objects.filter(pk=itsm.pk).update(customer=cast.customer_b)
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    webhooks.webhook_deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "cancelled"
    assert receiver.received == []


def test_an_endpoint_gets_a_fresh_standard_webhooks_secret(cast):
    first = WebhookEndpoint.objects.create(url="https://itsm.example.com/hooks")
    second = WebhookEndpoint.objects.create(url="https://itsm.example.com/hooks")
    assert first.secret.startswith("whsec_") and len(base64.b64decode(first.secret[6:])) == 32
    assert first.secret != second.secret
    json.dumps(first.kinds)


def test_a_catalogue_admin_adds_an_endpoint_in_the_admin_and_reads_its_secret(cast, client, settings):
    settings.WEBHOOK_REQUIRE_HTTPS = True
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    admin = make_user("admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    add = reverse("admin:webhooks_webhookendpoint_add")
    form = {"url": "https://itsm.aarhus.example/hooks", "description": "ITSM", "customer": cast.customer_a.pk}
    refused = client.post(add, {**form, "url": "https://10.0.0.8/hooks", "is_active": "on"})
    assert refused.status_code == 200 and not WebhookEndpoint.objects.exists()

    answer = client.post(add, {**form, "kinds": ["submit", "activate"], "is_active": "on"})
    assert answer.status_code == 302
    made = WebhookEndpoint.objects.get()
    assert (made.customer, made.kinds, made.is_active) == (cast.customer_a, ["submit", "activate"], True)
    assert made.secret.startswith("whsec_")
    page = client.get(reverse("admin:webhooks_webhookendpoint_change", args=[made.pk])).content.decode()
    assert made.secret in page
    assert 'name="secret"' not in page  # shown, never edited


def test_each_attempt_is_signed_when_it_is_sent_so_a_late_retry_still_verifies(cast, receiver):
    import time

    itsm = endpoint(receiver, "/a", customer=cast.customer_a, kinds=["create"])
    make_order(cast, "draft")  # queued; the commit callbacks (and so the sending) do not run here
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    time.sleep(1.1)
    assert webhooks.webhook_deliver(delivery.pk)
    [got] = receiver.at("/a")
    assert got.verified
    assert int(got.headers["webhook-timestamp"]) > delivery.event.created_at.timestamp()


@pytest.mark.parametrize(
    ("change", "sentence"),
    [
        ({"is_active": False}, "The endpoint is not active. Activate it first, then send the webhook again."),
        ({"customer": "customer_b"}, "The endpoint now belongs to another customer; this webhook cannot go to it."),
    ],
)
def test_a_webhook_is_not_sent_again_to_an_endpoint_deactivated_or_given_to_another_customer(
    cast, receiver, change, sentence
):

    from core.errors import NotAllowedNow

    admin = make_user("admin", is_staff=True, is_superuser=True)
    itsm = endpoint(receiver, "/a", customer=cast.customer_a, kinds=["create"])
    make_order(cast, "draft")  # queued, not yet sent
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    WebhookEndpoint.objects.filter(pk=itsm.pk).update(
        **{field: getattr(cast, value) if field == "customer" else value for field, value in change.items()}
    )
    # The same rule for the worker, which cancels it, and for the admin, who is told why.
    assert not webhooks.webhook_deliver(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "cancelled"
    with translation.override("en"), pytest.raises(NotAllowedNow) as refused:
        webhooks.webhook_redeliver(delivery=delivery, actor=admin)
    assert refused.value.message == sentence
    delivery.refresh_from_db()
    assert delivery.status == "cancelled" and receiver.received == []


def test_a_delivery_keeps_its_newest_attempts_and_forgets_the_oldest(cast, receiver):
    from webhooks.models import ATTEMPTS_KEPT

    itsm = endpoint(receiver, "/down", customer=cast.customer_a, kinds=["create"], status=503, body=b"busy")
    make_order(cast, "draft")  # queued, not yet sent
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    made = []
    for _ in range(ATTEMPTS_KEPT + 1):
        with pytest.raises(webhooks.WebhookFailed):
            webhooks.webhook_deliver(delivery.pk)
        made.append(WebhookAttempt.objects.filter(delivery=delivery).first().pk)  # newest first
    assert len(set(made)) == ATTEMPTS_KEPT + 1 == 21
    kept = set(WebhookAttempt.objects.filter(delivery=delivery).values_list("pk", flat=True))
    assert kept == set(made[1:])  # the newest 20; the first attempt is gone
    delivery.refresh_from_db()
    assert delivery.attempts == 21 and delivery.last_status_code == 503  # the count keeps every attempt
