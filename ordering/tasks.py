"""Thin tasks: take ids, call a service. Safe to run twice."""

from celery import shared_task
from django.db import transaction

# E-mails and documents go through the outbox (core/outbox.py). These three tasks remain only for
# messages a broker still holds from before it: each hands its work to the outbox, which delivers it.


@shared_task
def send_event_notification(event_id: int) -> None:
    from .models import AuditEvent
    from .services import enqueue_event_notification

    with transaction.atomic():
        enqueue_event_notification(AuditEvent.objects.get(pk=event_id))


@shared_task
def render_addendum(addendum_id: int) -> None:
    from .services import enqueue_addendum_render

    _enqueue_for_addendum(enqueue_addendum_render, addendum_id)


@shared_task
def stamp_addendum(addendum_id: int) -> None:
    from .services import enqueue_addendum_stamp

    _enqueue_for_addendum(enqueue_addendum_stamp, addendum_id)


def _enqueue_for_addendum(enqueue, addendum_id: int) -> None:
    from .models import Addendum

    with transaction.atomic():
        enqueue(Addendum.objects.select_related("order").get(pk=addendum_id))


@shared_task
def recover_addendum_documents() -> int:
    from .services import addendum_documents_recover

    return addendum_documents_recover()


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def write_audit_checkpoint() -> str:
    from .audit import audit_checkpoint_write

    return str(audit_checkpoint_write()[1])


@shared_task
def close_scheduled_accesses() -> int:
    """Daily: close the accesses whose scheduled closing date has come (ordering/services.py)."""
    from .services import accesses_close_as_scheduled

    return accesses_close_as_scheduled()


@shared_task
def watch_test_accesses() -> dict:
    """Daily: expire the startup package's test accesses on their end date; notices 30 and 7 days before."""
    from .services import test_access_sweep

    return test_access_sweep()
