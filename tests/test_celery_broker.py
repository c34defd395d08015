"""Notifications travel through the real broker when one is configured (Redis in CI)."""

import os
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from config import celery_app
from ordering import services

pytestmark = pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL"), reason="no CELERY_BROKER_URL set")


@pytest.mark.django_db(transaction=True)
def test_a_submitted_order_is_mailed_by_a_worker_through_the_broker(cast, order_in):
    order = order_in("draft")
    celery_app.conf.task_always_eager = False
    mail.outbox.clear()
    celery_app.control.purge()  # nothing left over from an earlier run
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        services.order_submit(order=order, actor=cast.orderer_a)
        deadline = time.monotonic() + 15
        while not mail.outbox and time.monotonic() < deadline:
            time.sleep(0.1)
    assert [m.to for m in mail.outbox] == [["am_a@example.test"]]
