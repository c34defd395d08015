import datetime

from celery import shared_task
from django.utils import timezone

from .services import billing_run


@shared_task
def run_monthly_billing() -> str:
    """On the 1st: bill the month that just ended."""
    last_month = timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    return str(billing_run(period=last_month.replace(day=1)))
