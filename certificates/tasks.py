from smtplib import SMTPException

from celery import shared_task

from .services import certificate_expiry_notify


@shared_task(autoretry_for=(SMTPException, ConnectionError, TimeoutError), retry_backoff=True, max_retries=5)
def watch_certificate_expiry() -> int:
    return certificate_expiry_notify()
