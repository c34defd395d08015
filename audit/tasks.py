"""Thin tasks: take ids, call a service. Safe to run twice."""

from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=3)
def write_audit_checkpoint() -> str:
    """Sign the head of the trail and write it outside the database (audit/verification.py): every
    AUDIT_CHECKPOINT_EVERY_MINUTES (beat), and when audit/checkpoints.py asks for one."""
    from .verification import audit_checkpoint_write

    return str(audit_checkpoint_write()[1])
