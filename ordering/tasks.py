from smtplib import SMTPException

from celery import shared_task

from .notifications import notify_event


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=8,
)
def send_event_notification(event_id: int) -> int:
    return notify_event(event_id)
