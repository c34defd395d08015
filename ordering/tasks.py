"""Thin tasks: take ids, call a service. Safe to run twice."""

from celery import shared_task


@shared_task
def recover_addendum_documents() -> int:
    from .services import addendum_documents_recover

    return addendum_documents_recover()


@shared_task
def close_scheduled_accesses() -> int:
    """Daily: close the accesses whose scheduled closing date has come (ordering/services/closure.py)."""
    from .services import accesses_close_as_scheduled

    return accesses_close_as_scheduled()


@shared_task
def watch_test_accesses() -> dict:
    """Daily: expire the startup package's test accesses on their end date; notices 30 and 7 days before."""
    from .services import test_access_sweep

    return test_access_sweep()
