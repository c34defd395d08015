"""Signed webhooks from the outbox: one delivery per audit event and subscribed endpoint, sent at least once.

Queuing. Every published audit event (audit/trail.py `audit_record`) is offered to the endpoints through
Django's post_save signal (connected in apps.py): ordering knows nothing of webhooks (.importlinter).
A customer's endpoint gets that customer's events only; a KMD-wide endpoint gets every event. Each
match is a WebhookDelivery and an outbox message, written in the event's own transaction: a write that
rolls back sends nothing, and a committed one is never without its webhooks.

Sending. The outbox (core/outbox.py) runs `webhook_deliver` in a worker: the stored body, signed per
Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`), POSTed once
(webhooks/transport.py). A 2xx answer delivers it; anything else raises, so the outbox tries again with
its back-off, and after WEBHOOK_MAX_ATTEMPTS gives it up: the delivery is dead and support sees it with
the other undelivered messages. The webhook id is the same on every attempt and every redelivery, so a
receiver that gets a webhook twice (a worker died after sending, an admin redelivered) can tell.
"""

from __future__ import annotations

import datetime
import http.client
import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from standardwebhooks import Webhook

from accounts.roles import is_catalogue_admin
from audit import vocabulary
from audit.models import AuditEvent
from audit.trail import audit_record
from core.errors import Invalid, NotAllowedNow, NotPermitted
from core.models import OutboxMessage
from core.outbox import outbox_enqueue, outbox_handler
from core.transactions import retry_on_conflict
from ordering.models import Customer, ExternalSystem
from ordering.people import is_user_admin_of
from ordering.roles import Role

from . import transport
from .audit import WEBHOOK_URL, WEBHOOKS_CANCELLED, WebhookAuditKind
from .models import ATTEMPTS_KEPT, ERROR_LENGTH, WebhookAttempt, WebhookDelivery, WebhookEndpoint, new_secret

logger = logging.getLogger(__name__)

DELIVER = "webhooks.deliver"  # the outbox handler
Status = WebhookDelivery.Status


def webhook_id_for(event: AuditEvent) -> str:
    """The event's webhook id: derived from the event, so it is the same on every attempt and redelivery."""
    return f"evt_{event.seq}"


# --- What a webhook says -----------------------------------------------------------------------


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def event_customer_id(event: AuditEvent) -> int | None:
    """The customer an event is about: its order's, or (a customer registering its own system) the system's owner."""
    if event.order_id:
        return event.order.customer_id
    if event.subject_type_id and event.subject_type.model_class() is ExternalSystem:
        return ExternalSystem.objects.filter(pk=event.subject_id).values_list("owner_id", flat=True).first()
    return None


def webhook_payload(event: AuditEvent, customer_id: int | None) -> dict:
    """The webhook's JSON: what happened to which order of which customer, and nothing more.

    No actor names and no comments: a comment is free text (a rejection's reason, an emergency
    closure's cause, a signer's name) that may name people, and a receiver is another system, outside
    Opus Adgang's access control. The receiver reads the rest on the order's page or through the API,
    as the person or token it is.
    """
    order = event.order if event.order_id else None
    data: dict = {
        "event": {
            "seq": event.seq,
            "kind": event.kind,
            "occurred_at": _utc(event.created_at),
            "actor_role": event.actor_role,
        }
    }
    if order is not None:
        system = order.external_system
        data["order"] = {
            "id": order.pk,
            "reference": order.reference,
            "url": settings.SITE_URL + reverse("ordering:order_detail", args=[order.pk]),
            "environment": order.environment,
            "state_from": event.from_state or None,  # an order's creation comes from no state
            "state_to": event.to_state,
        }
        data["external_system"] = {"id": system.pk, "name": system.name, "vendor_cvr": system.vendor.cvr}
    else:
        data["subject"] = {"type": event.subject_type.model if event.subject_type_id else "", "id": event.subject_id}
    if customer_id is not None:
        data["customer"] = {"cvr": order.customer.cvr if order is not None else _customer_cvr(customer_id)}
    return {
        "type": f"{'order' if order is not None else 'catalogue'}.{event.kind}",
        "timestamp": _utc(event.created_at),
        "data": data,
    }


def _customer_cvr(customer_id: int) -> str:
    return Customer.objects.values_list("cvr", flat=True).get(pk=customer_id)


# --- Queuing, in the event's transaction -------------------------------------------------------


def endpoints_for(kind: str, customer_id: int | None) -> list[WebhookEndpoint]:
    """The active endpoints that subscribe to this kind of event about this customer (None: no customer)."""
    audience = Q(customer__isnull=True)
    if customer_id is not None:
        audience |= Q(customer_id=customer_id)
    return [endpoint for endpoint in WebhookEndpoint.objects.filter(audience, is_active=True) if endpoint.wants(kind)]


def webhooks_enqueue_for_event(event: AuditEvent) -> list[WebhookDelivery]:
    """A delivery and an outbox message for every endpoint that subscribes to the event."""
    customer_id = event_customer_id(event)
    endpoints = endpoints_for(event.kind, customer_id)
    if not endpoints:
        return []
    body = json.dumps(webhook_payload(event, customer_id), ensure_ascii=False, separators=(",", ":"))
    webhook_id = webhook_id_for(event)
    deliveries = []
    # Joins the event's own transaction (a savepoint within it); outbox_enqueue needs one.
    with transaction.atomic():
        for endpoint in endpoints:
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint,
                event=event,
                customer_id=customer_id,
                kind=event.kind,
                webhook_id=webhook_id,
                body=body,
            )
            _enqueue(delivery)
            deliveries.append(delivery)
    return deliveries


def _enqueue(delivery: WebhookDelivery) -> None:
    outbox_enqueue(
        DELIVER,
        payload={"delivery_id": delivery.pk},
        key=str(delivery.pk),  # a redelivery asks again for the same message while it is still open
        order_id=delivery.event.order_id,
        event_id=delivery.event_id,
        subject=f"Webhook {delivery.webhook_id} → {delivery.endpoint}",
    )


def on_audit_event(sender, instance: AuditEvent, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of AuditEvent (connected in apps.py). KMD's own records (a token issued, a message sent
    again) are not published (audit/vocabulary.py)."""
    if created and not raw and vocabulary.is_published(instance.kind):
        webhooks_enqueue_for_event(instance)


# --- Sending, in a worker ----------------------------------------------------------------------


class WebhookFailed(Exception):
    """The receiver did not take the webhook; the outbox tries again later."""


def _given_up(message) -> None:
    """The outbox gave the message up (Handler.on_dead): the delivery is dead too, for support and the admin."""
    # A delivery cancelled meanwhile (its endpoint changed) stays cancelled: it is not for support to send again.
    WebhookDelivery.objects.filter(pk=message.payload["delivery_id"]).exclude(
        status__in=(Status.DELIVERED, Status.CANCELLED)
    ).update(status=Status.DEAD)


def signed_headers(delivery: WebhookDelivery, secret: str, at: datetime.datetime) -> dict[str, str]:
    """The Standard Webhooks headers for one attempt: signed now, so a receiver can refuse old replays."""
    at = at.astimezone(datetime.UTC)  # the library reads the clock time as UTC whatever the zone says
    return {
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(delivery.webhook_id, at, delivery.body),
        "Content-Type": "application/json",
    }


def endpoint_refusal(delivery: WebhookDelivery) -> NotAllowedNow | None:
    """Why the delivery may no longer go to its endpoint, or None when it may still.

    Its endpoint must be active, and still KMD's or the customer's the event is about: one deactivated, or
    given to another customer, since the event must not get it (that customer must not read another's
    events). The worker cancels such a delivery; a redelivery is refused with the sentence.
    """
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        return NotAllowedNow(_("The endpoint is not active. Activate it first, then send the webhook again."))
    if endpoint.customer_id not in (None, delivery.customer_id):
        return NotAllowedNow(_("The endpoint now belongs to another customer; this webhook cannot go to it."))
    return None


@outbox_handler(
    DELIVER,
    label=gettext_lazy("A webhook to a subscribed system"),
    max_attempts=settings.WEBHOOK_MAX_ATTEMPTS,
    on_dead=_given_up,
    queue=lambda: settings.WEBHOOK_QUEUE,  # a slow receiver holds webhook workers only, never a render or an e-mail
)
def webhook_deliver(delivery_id: int) -> bool:
    """POST one delivery once; True when the receiver took it. Raises (so the outbox retries) when it did not."""
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (Status.DELIVERED, Status.CANCELLED):
        return False  # the endpoint was deleted, or a redelivered broker message after success: nothing to do
    endpoint = delivery.endpoint
    if endpoint_refusal(delivery) is not None:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=Status.CANCELLED)
        return False
    headers = signed_headers(delivery, endpoint.secret, timezone.now())
    started = time.monotonic()
    try:
        answer = transport.post(endpoint.url, delivery.body.encode(), headers)
    except (transport.Refused, OSError, http.client.HTTPException) as error:
        _record(delivery, started, status_code=None, error=f"{type(error).__name__}: {error}")
        raise WebhookFailed(f"{endpoint.url}: {type(error).__name__}: {error}") from error
    if 200 <= answer.status < 300:
        _record(delivery, started, status_code=answer.status, error="")
        return True
    said = " ".join(answer.excerpt.split())[:200]
    _record(delivery, started, status_code=answer.status, error=f"HTTP {answer.status}: {said}")
    raise WebhookFailed(f"{endpoint.url} answered HTTP {answer.status}: {said}")


def _record(delivery: WebhookDelivery, started: float, *, status_code: int | None, error: str) -> None:
    now = timezone.now()
    delivered = not error
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            at=now,
            status_code=status_code,
            error=error[:ERROR_LENGTH],
            duration_ms=int((time.monotonic() - started) * 1000),
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).exclude(status=Status.DELIVERED).update(
            # Cancelled while this attempt was on its way (the endpoint changed): it stays cancelled, unless the
            # receiver took it, for then it was sent after all.
            status=Value(Status.DELIVERED)
            if delivered
            else Case(When(status=Status.CANCELLED, then=Value(Status.CANCELLED)), default=Value(Status.PENDING)),
            attempts=F("attempts") + 1,
            last_status_code=status_code,
            last_error=error[:ERROR_LENGTH],
            last_attempt_at=now,
            delivered_at=now if delivered else None,
        )
        # The history is bounded: the newest ATTEMPTS_KEPT attempts of a delivery are kept.
        older = WebhookAttempt.objects.filter(delivery=delivery).order_by("-at", "-pk").values_list("pk", flat=True)
        stale = list(older[ATTEMPTS_KEPT:])
        if stale:
            WebhookAttempt.objects.filter(pk__in=stale).delete()


# --- Redelivery, by a catalogue admin ----------------------------------------------------------


@retry_on_conflict
def webhook_redeliver(*, delivery: WebhookDelivery, actor) -> WebhookDelivery:
    """Send a delivery again now, with the same webhook id (receivers that have it already ignore it).

    A delivery still being tried is asked for now, with a fresh set of attempts; a given-up one the same
    (its outbox message is sent again); a delivered one gets a new outbox message.
    """
    if not is_catalogue_admin(actor):
        raise NotPermitted(_("Only catalogue admins can send a webhook again."))
    with transaction.atomic():
        locked = WebhookDelivery.objects.select_for_update().select_related("endpoint", "event").get(pk=delivery.pk)
        refusal = endpoint_refusal(locked)
        if refusal is not None:
            raise refusal
        locked.status = Status.PENDING
        locked.delivered_at = None
        locked.save(update_fields=["status", "delivered_at"])
        _enqueue(locked)
        audit_record(kind=WebhookAuditKind.WEBHOOK_SENT_AGAIN, actor=actor, role=Role.CATALOGUE_ADMIN, subject=locked)
    return locked


# --- Endpoints, by a catalogue admin -----------------------------------------------------------


@dataclass(frozen=True)
class EndpointSaved:
    secret_renewed: bool  # the customer or URL changed: the receiver needs the new secret
    cancelled: int  # webhooks that were waiting for the old receiver and will not be sent


@retry_on_conflict
def webhook_endpoint_save(*, endpoint: WebhookEndpoint, actor) -> EndpointSaved:
    """Add an endpoint, or save the changes made to it.

    A new customer or URL makes it, for the receiver, a new endpoint. It gets a new signing secret:
    whoever knew the old one (the previous customer, the owner of the old URL) could otherwise sign
    webhooks that the new receiver trusts. And what was waiting for the old receiver is cancelled rather
    than sent to the new one: a webhook about customer A must not follow the endpoint to customer B, nor
    to a URL that was never chosen for it. Any other change (description, kinds, active) keeps both.
    """
    if not is_catalogue_admin(actor):
        raise NotPermitted(_("Only catalogue admins can add or change webhook endpoints."))
    with transaction.atomic():
        if endpoint.pk is not None and not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists():
            endpoint.pk = None  # a first save rolled back (retry_on_conflict runs it again): still a new endpoint
        if endpoint.pk is None:
            endpoint._state.adding = True
            endpoint.save()
            return EndpointSaved(secret_renewed=False, cancelled=0)
        stored = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        moved = (stored.customer_id, stored.url) != (endpoint.customer_id, endpoint.url)
        # The stored secret, not the one read with the form: a rotation meanwhile is kept.
        endpoint.secret = new_secret() if moved else stored.secret
        cancelled = _cancel_undelivered(endpoint) if moved else 0
        endpoint.save()
        if moved:
            audit_record(
                kind=WebhookAuditKind.WEBHOOK_ENDPOINT_MOVED,
                actor=actor,
                role=Role.CATALOGUE_ADMIN,
                subject=endpoint,
                params={WEBHOOKS_CANCELLED: cancelled},
            )
    return EndpointSaved(secret_renewed=moved, cancelled=cancelled)


def _cancel_undelivered(endpoint: WebhookEndpoint) -> int:
    """Cancel the endpoint's deliveries not yet delivered (waiting or given up) and close their outbox messages."""
    undelivered = list(
        WebhookDelivery.objects.select_for_update()
        .filter(endpoint=endpoint, status__in=(Status.PENDING, Status.DEAD))
        .values_list("pk", flat=True)
    )
    if not undelivered:
        return 0
    WebhookDelivery.objects.filter(pk__in=undelivered).update(status=Status.CANCELLED)
    # Closed as cancelled, never as delivered: nothing to send any more, and nothing for support's list of
    # undelivered messages.
    OutboxMessage.objects.filter(
        handler=DELIVER,
        payload__delivery_id__in=undelivered,
        status__in=(OutboxMessage.Status.PENDING, OutboxMessage.Status.DEAD),
    ).update(status=OutboxMessage.Status.CANCELLED, claimed_until=None)
    return len(undelivered)


@retry_on_conflict
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, actor) -> WebhookEndpoint:
    """Give an endpoint a new signing secret (one that leaked, or a routine change).

    Every attempt is signed when it is sent, so from now on every webhook, retries included, carries the
    new signature; the receiver needs the new secret before it can verify them.
    """
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        role = _endpoint_role(actor, locked)
        if role is None:
            raise NotPermitted(
                _(
                    "Only catalogue admins and the customer's user administrators can give an endpoint a new signing secret."
                )
            )
        locked.secret = new_secret()
        locked.save(update_fields=["secret"])
        # Who gave which endpoint a new secret; never the secret itself.
        audit_record(kind=WebhookAuditKind.WEBHOOK_SECRET_ROTATED, actor=actor, role=role, subject=locked)
    return locked


def _endpoint_role(actor, endpoint: WebhookEndpoint) -> str | None:
    """The role in which `actor` may manage this endpoint: KMD's catalogue admin any, a customer's user
    administrator that customer's own (never a KMD-wide one); None: not at all."""
    if is_catalogue_admin(actor):
        return Role.CATALOGUE_ADMIN
    if endpoint.customer_id is not None and is_user_admin_of(actor, endpoint.customer):
        return Role.USER_ADMIN
    return None


# --- A customer's own endpoints, by its user administrator --------------------------------------

# However many a customer adds, every event of that customer is sent to each of them: a bound keeps that in reason.
CUSTOMER_ENDPOINTS_MAX = 10
TEST_EVENT_TYPE = "webhook.test"


def _refuse_unless_user_admin(actor, customer: Customer) -> None:
    if not is_user_admin_of(actor, customer):
        raise NotPermitted(_("Only the customer's user administrators can manage its webhook endpoints."))


@retry_on_conflict
def customer_webhook_endpoint_add(*, customer: Customer, url: str, description: str, actor) -> WebhookEndpoint:
    """A new endpoint for the customer's own system; it gets every event about the customer.

    The URL passes the same rules as KMD's endpoints (webhooks/transport.py `url_problem`): webhooks are
    sent from inside KMD's network, so never to a private, local or metadata address.
    """
    _refuse_unless_user_admin(actor, customer)
    problem = transport.url_problem(url)
    if problem:
        raise Invalid(problem, errors={"url": problem})
    with transaction.atomic():
        # The customer's row serialises additions, so two at the same moment cannot pass the bound together.
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if WebhookEndpoint.objects.filter(customer=locked).count() >= CUSTOMER_ENDPOINTS_MAX:
            raise NotAllowedNow(
                _(
                    "A customer can have at most %(max)d webhook endpoints. Remove one you no longer use, "
                    "then add the new one."
                )
                % {"max": CUSTOMER_ENDPOINTS_MAX}
            )
        endpoint = WebhookEndpoint.objects.create(customer=locked, url=url, description=description)
        audit_record(
            kind=WebhookAuditKind.WEBHOOK_ENDPOINT_ADDED,
            actor=actor,
            role=Role.USER_ADMIN,
            subject=endpoint,
            params={WEBHOOK_URL: url},
        )
    return endpoint


@retry_on_conflict
def customer_webhook_endpoint_remove(*, endpoint: WebhookEndpoint, actor) -> None:
    """Remove one of the customer's endpoints: nothing more is sent to it, not even what was waiting."""
    with transaction.atomic():
        locked = (
            WebhookEndpoint.objects.select_for_update(of=("self",))
            .select_related("customer")
            .filter(pk=endpoint.pk)
            .first()
        )
        if locked is None:
            raise NotAllowedNow(_("The endpoint was removed already."))
        if locked.customer_id is None:
            raise NotPermitted(_("Only the customer's user administrators can manage its webhook endpoints."))
        _refuse_unless_user_admin(actor, locked.customer)
        # Closes their outbox messages, so support's list of undelivered messages is not left with orphans.
        _cancel_undelivered(locked)
        audit_record(
            kind=WebhookAuditKind.WEBHOOK_ENDPOINT_REMOVED,
            actor=actor,
            role=Role.USER_ADMIN,
            subject=locked,
            params={WEBHOOK_URL: locked.url},
        )
        locked.delete()


def webhook_test_payload(event: AuditEvent, endpoint: WebhookEndpoint) -> dict:
    """A test webhook's JSON: the shape of every webhook, about nothing but the endpoint itself."""
    return {
        "type": TEST_EVENT_TYPE,
        "timestamp": _utc(event.created_at),
        "data": {
            "event": {"seq": event.seq, "kind": event.kind, "occurred_at": _utc(event.created_at)},
            "customer": {"cvr": endpoint.customer.cvr},
            "endpoint": {"id": endpoint.pk, "url": endpoint.url},
        },
    }


@retry_on_conflict
def webhook_test_send(*, endpoint: WebhookEndpoint, actor) -> WebhookDelivery:
    """Send a test webhook to this endpoint only, signed and tried like every other (the outbox, webhook_deliver).

    It is made from its own audit event, which is not published: no other endpoint gets it.
    """
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update(of=("self",)).select_related("customer").get(pk=endpoint.pk)
        if locked.customer_id is None:
            raise NotPermitted(_("Only the customer's user administrators can manage its webhook endpoints."))
        _refuse_unless_user_admin(actor, locked.customer)
        if not locked.is_active:
            raise NotAllowedNow(_("The endpoint is not active, so no test webhook can be sent to it."))
        event = audit_record(kind=WebhookAuditKind.WEBHOOK_TEST_SENT, actor=actor, role=Role.USER_ADMIN, subject=locked)
        delivery = WebhookDelivery.objects.create(
            endpoint=locked,
            event=event,
            customer_id=locked.customer_id,
            kind=event.kind,
            webhook_id=webhook_id_for(event),
            body=json.dumps(webhook_test_payload(event, locked), ensure_ascii=False, separators=(",", ":")),
        )
        _enqueue(delivery)
    return delivery
