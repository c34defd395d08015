"""How every write to an order runs: the lock, the transition with its checks, the audit event and the
e-mails after commit; the comment and reason rules every action shares."""

import datetime
import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.utils import formats
from django.utils.translation import gettext as _

from audit.models import AuditEvent
from audit.trail import audit_record
from core.errors import ChangedMeanwhile, Invalid
from core.outbox import outbox_enqueue
from core.transactions import retry_on_conflict

from .. import transitions
from ..models import (
    TEXT_MAX_LENGTH,
    AccessOrder,
    Customer,
    order_reference,
)
from ..notifications import NOTIFY_EVENT, RECIPIENTS
from ..validators import typed_text_problem

logger = logging.getLogger(__name__)


def lock_order(order: AccessOrder) -> AccessOrder:
    """Lock the customer, then the order (Locks, above); make sure nobody changed its state since the caller read it."""
    Customer.objects.select_for_update(no_key=True).only("pk").get(pk=order.customer_id)
    orders = AccessOrder.objects.select_for_update(no_key=True, of=("self",)).select_related("customer")
    locked = orders.get(pk=order.pk)
    if locked.state != order.state:
        raise ChangedMeanwhile(
            _(
                "Someone else changed this order while you were working on it: it is now “%(state)s”. "
                "Reload the page to see what happened."
            )
            % {"state": locked.get_state_display()}
        )
    return locked


def lock_orders(orders: QuerySet[AccessOrder], *, customers: QuerySet[Customer]) -> list[AccessOrder]:
    """Lock many orders for one write (Locks, above): first `customers` (those of the orders, and any other whose
    orders the write must keep still), then the orders that `orders` finds once they are held, each level in
    primary-key order so that two such writes never wait on each other crosswise. Returns the locked orders."""
    list(Customer.objects.select_for_update(no_key=True).filter(pk__in=customers.values("pk")).order_by("pk"))
    locked = AccessOrder.objects.select_for_update(no_key=True, of=("self",)).select_related("customer")
    return list(locked.filter(pk__in=orders.values("pk")).order_by("pk"))


def _audit_and_notify(**fields) -> AuditEvent:
    """Append the audit event (`audit_record`'s arguments) and queue the e-mails about it. A lifecycle action
    becomes the order's `last_action` in the same transaction: every transition records its event here."""
    event = audit_record(**fields)
    if event.kind in transitions.TRANSITIONS and event.order_id is not None:
        AccessOrder.objects.filter(pk=event.order_id).update(last_action=event.kind)
        if fields.get("order") is not None:
            fields["order"].last_action = event.kind  # as the caller's copy shows it from now on
    enqueue_event_notification(event)
    return event


def enqueue_event_notification(event) -> None:
    """The e-mails about an audit event, sent after commit (notifications.RECIPIENTS says to whom)."""
    if event.kind not in RECIPIENTS:
        return
    outbox_enqueue(
        NOTIFY_EVENT,
        payload={"event_id": event.pk},
        key=str(event.pk),
        order_id=event.order_id,
        event_id=event.pk,
        subject=order_reference(event.order_id) if event.order_id else "",
    )


@retry_on_conflict
def _run_transition(
    order: AccessOrder,
    actor,
    spec: transitions.TransitionSpec,
    *,
    fields: Iterable[str] = (),
    comment: str = "",
    params: dict | None = None,
    job: str = "",
    check=None,
    after=None,
    perform=None,
    **kwargs,
) -> AccessOrder:
    """Run one transition of the registry (ordering/transitions.py) for `actor`, or for a system job (`job`,
    no actor: the nightly closure), which the FSM's role check does not apply to. The comment is stored as
    `_comment` leaves it, and refused before any lock when it cannot be."""
    comment = _comment(comment)
    with transaction.atomic():
        locked = lock_order(order)
        refusal = transitions.transition_refusal(locked, actor, spec.name, by_job=bool(job) and actor is None)
        if refusal is not None:
            raise refusal
        method = getattr(locked, spec.name)
        if check is not None:
            check(locked)
        if perform is not None:
            perform(locked)  # writes, audits and sends the e-mails itself (closing: `_end_access`)
            return locked
        from_state = locked.state
        method(**kwargs)
        locked.save(update_fields=["state", "updated_at", *fields])
        if after is not None:
            after(locked)
        _audit_and_notify(
            order=locked,
            actor=actor,
            role=spec.role,
            kind=spec.kind,
            from_state=from_state,
            comment=comment,
            params=params,
        )
    return locked


def _require_text(value: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(message, errors={"comment": message})
    return _comment(value)


def _comment(value: str) -> str:
    """A comment or reason as stored: trimmed, refused when too long or holding control characters."""
    value = (value or "").strip()
    problem = typed_text_problem(value, max_length=TEXT_MAX_LENGTH, multiline=True)
    if problem:
        raise Invalid(problem, errors={"comment": problem})
    return value


def _short_date(day: datetime.date) -> str:
    return formats.date_format(day, "SHORT_DATE_FORMAT")
