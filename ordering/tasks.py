"""Thin tasks: take ids, call a service. Safe to run twice."""

from smtplib import SMTPException

from celery import shared_task


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=8,
)
def send_event_notification(event_id: int) -> int:
    from .notifications import notify_event

    return notify_event(event_id)


@shared_task(time_limit=120, soft_time_limit=100, autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def render_addendum(addendum_id: int) -> str:
    from .services import addendum_render

    return addendum_render(addendum_id).render_status


@shared_task(time_limit=120, soft_time_limit=100, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def stamp_addendum(addendum_id: int) -> bool:
    from .services import addendum_stamp

    return bool(addendum_stamp(addendum_id).final_sha256)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def write_audit_checkpoint() -> str:
    from .audit import audit_checkpoint_write

    return str(audit_checkpoint_write()[1])
