"""Appending to the audit trail: the one function every app records its writes with."""

import datetime

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from . import vocabulary
from .checkpoints import checkpoint_soon
from .models import ActorKind, AuditEvent, AuditHead, head_seal


def audit_record(
    *,
    kind: str,
    actor=None,
    job: str = "",
    role: str = "",
    order: models.Model | None = None,
    subject: models.Model | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    comment: str = "",
    params: dict | None = None,
) -> AuditEvent:
    """Append one event. Call inside the transaction that makes the change it records.

    Who acted is a person (`actor`, with the `role` they acted in) or, for a scheduled job, no person and
    the job's name (`job`). `order` is what the event is about; `subject` names a more precise object (a
    licence, a price list, a token), and is required when there is no order. An event about one of an
    order's own objects (a fee, an upload, an addendum: a model with an `order` foreign key) is about that
    order unless `order` names another. The states default to the order's current state (a write that is not
    a transition). `comment` is what the person typed; what the
    app itself states goes in `params`, read in each reader's language (audit/vocabulary.py): dates as
    `datetime.date`, stored as ISO text.
    """
    registered = vocabulary.kind(kind)  # an unregistered kind is refused before anything is written
    if order is None and subject is not None:
        order = _order_of(subject)
    if order is None and subject is None:
        raise ValueError("An audit event is about an order or names its own object.")
    if (actor is None) == (not job):
        raise ValueError("An audit event is recorded by a person (actor) or by a system job (job), never both.")
    # The head row serialises appends, so `seq` has no gaps and each event links to the one before.
    head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
    current = getattr(order, "state", "") if order is not None else ""
    event = AuditEvent(
        seq=head.seq + 1,
        order=order,
        kind=registered.value,
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=str(subject.pk) if subject is not None else "",
        from_state=current if from_state is None else from_state,
        to_state=current if to_state is None else to_state,
        actor=actor,
        actor_kind=ActorKind.PERSON if actor is not None else ActorKind.SYSTEM,
        job=job,
        actor_role=role,
        created_at=timezone.now(),
        comment=comment,
        params=_stored(params or {}),
        prev_hash=head.hash,
    )
    event.hash = event.compute_hash()
    event.save()
    head.seq, head.hash = event.seq, event.hash
    head.seal = head_seal(head.seq, head.hash)
    head.save(update_fields=["seq", "hash", "seal"])
    if event.seq % settings.AUDIT_CHECKPOINT_EVERY_EVENTS == 0 or vocabulary.checkpoint_after(event.kind):
        transaction.on_commit(checkpoint_soon)
    return event


def _order_of(subject: models.Model) -> models.Model | None:
    """The order `subject` is part of, or None for an object of its own (a price list, a customer, a token)."""
    if any(field.name == "order" and field.is_relation for field in subject._meta.concrete_fields):
        return subject.order
    return None


def _stored(params: dict) -> dict:
    """Parameters as JSON keeps them, so that the seal computed now is the seal verified later."""
    stored = {}
    for name, value in params.items():
        if value is None or value == "":
            continue
        if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date | str | int | bool):
            raise TypeError(f"Audit parameter {name!r} must be a date, text, a whole number or yes/no.")
        stored[name] = value.isoformat() if isinstance(value, datetime.date) else value
    return stored
