"""Webhooks through a real Celery worker and Redis: a broker outage delays a webhook and never loses or
doubles it; a receiver that keeps failing gets its retries, then the delivery is given up for support.

PostgreSQL, Redis (CELERY_BROKER_URL; CI's, a Redis database of its own) and `celery -A config worker`
started here as a subprocess on this session's test database and a queue of its own. The test process
plays the beat: it runs the outbox sweep itself, so the back-off is the worker's (OUTBOX_BACKOFF_SECONDS=1)
and the timing is the test's. The test data is committed (transactional tests) so the worker sees it.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse

from config import celery_app
from core.models import OutboxMessage
from core.outbox import outbox_sweep
from ordering import services
from tests.conftest import make_order
from tests.real_broker import BROKER_URL, BrokerOutage, queue_fixtures, worker_database_url
from webhooks.models import WebhookDelivery, WebhookEndpoint
from webhooks.services import DELIVER

QUEUE = f"webhooks-{uuid.uuid4().hex[:12]}"  # one per test session: parallel runs never take each other's tasks
MAX_ATTEMPTS = 3

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.processes,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not BROKER_URL, reason="needs a Redis broker (CELERY_BROKER_URL) for a real worker"),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker shares the test database: PostgreSQL"),
]


class Worker:
    def __init__(self, tmp_path: Path) -> None:
        self.log = tmp_path / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),  # this session's test database
            "CELERY_BROKER_URL": BROKER_URL,
            "WEBHOOK_QUEUE": QUEUE,  # its webhooks on its one queue too (tests.real_broker.send_tasks_to)
            "OUTBOX_BACKOFF_SECONDS": "1",
            "OUTBOX_BACKOFF_MAX_SECONDS": "1",
            "WEBHOOK_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
            "WEBHOOK_REQUIRE_HTTPS": "0",  # the receiver below speaks plain HTTP on 127.0.0.1
            "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
            "LOG_FORMAT": "text",
            "LOG_LEVEL": "WARNING",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            f"--queues={QUEUE}",
            f"--hostname={QUEUE}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ]
        with open(self.log, "wb") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command,
                cwd=django_settings.BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else "(no log)"


@pytest.fixture
def worker(transactional_db, tmp_path):
    started = Worker(tmp_path)
    try:
        yield started
    finally:
        started.stop()


through_the_broker, empty_queue_afterwards = queue_fixtures(QUEUE)


def wait_for(condition, *, seconds: float, worker: Worker, what: str, sweep: bool = False):
    """Poll until `condition()` holds; with `sweep`, run the outbox sweep each time, as the beat would."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if sweep:
            outbox_sweep()
        result = condition()
        if result:
            return result
        time.sleep(0.25)
    pytest.fail(f"not within {seconds} s: {what}\n{worker.log_tail()}")


def queue_length() -> int:
    with celery_app.connection_for_write(BROKER_URL) as broker:
        return broker.default_channel.client.llen(QUEUE)


def test_with_the_broker_unreachable_a_webhook_waits_and_is_delivered_exactly_once_when_it_returns(
    cast, receiver, worker, through_the_broker
):
    itsm = WebhookEndpoint.objects.create(
        url=receiver.url("/itsm-a"), customer=cast.customer_a, kinds=["submit"], description="ITSM A"
    )
    receiver.listen("/itsm-a", itsm.secret)
    other = WebhookEndpoint.objects.create(url=receiver.url("/itsm-b"), customer=cast.customer_b)
    receiver.listen("/itsm-b", other.secret)
    draft = make_order(cast, "draft")
    through_the_broker()

    with BrokerOutage():
        order = services.order_submit(order=draft, actor=cast.orderer_a)
    assert order.state == "submitted"
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    message = OutboxMessage.objects.get(handler=DELIVER, payload__delivery_id=delivery.pk)
    assert (message.status, message.dispatched_at, delivery.status) == ("pending", None, "pending")
    assert receiver.received == []

    # The broker is back: the sweep hands the waiting messages over and the worker sends the webhook.
    worker.start()
    assert outbox_sweep() >= 1
    wait_for(lambda: receiver.at("/itsm-a"), seconds=20, worker=worker, what="the webhook arrives")
    wait_for(
        lambda: WebhookDelivery.objects.filter(pk=delivery.pk, status="delivered").exists(),
        seconds=5,
        worker=worker,
        what="the delivery is recorded",
    )

    # The same broker message again, and another sweep: neither sends it a second time.
    celery_app.send_task("core.tasks.deliver_outbox_message", args=[message.pk], queue=QUEUE)
    outbox_sweep()
    wait_for(lambda: queue_length() == 0, seconds=10, worker=worker, what="the duplicate is taken")
    time.sleep(1)  # let it run out: it must send nothing

    [got] = receiver.at("/itsm-a")
    assert got.verified
    assert got.webhook_id == f"evt_{order.events.get(kind='submit').seq}"
    assert got.payload["type"] == "order.submit"
    assert got.payload["data"]["order"]["reference"] == order.reference
    assert receiver.at("/itsm-b") == []  # another customer's endpoint hears nothing of it
    delivery.refresh_from_db()
    message.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 1)
    assert message.status == "delivered"


def test_a_receiver_answering_500_gets_retries_then_the_delivery_is_given_up_for_support(
    cast, receiver, worker, through_the_broker, client
):
    itsm = WebhookEndpoint.objects.create(
        url=receiver.url("/down"), customer=cast.customer_a, kinds=["submit"], description="ITSM A"
    )
    receiver.listen("/down", itsm.secret, status=500, body=b"Internal Server Error")
    draft = make_order(cast, "draft")
    through_the_broker()
    worker.start()

    order = services.order_submit(order=draft, actor=cast.orderer_a)
    delivery = WebhookDelivery.objects.get(endpoint=itsm)
    message = wait_for(
        lambda: OutboxMessage.objects.filter(handler=DELIVER, payload__delivery_id=delivery.pk, status="dead").first(),
        seconds=25,
        worker=worker,
        what="the webhook is given up",
        sweep=True,
    )

    assert message.attempts == MAX_ATTEMPTS
    assert message.last_error.startswith("WebhookFailed:") and "answered HTTP 500" in message.last_error
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("dead", MAX_ATTEMPTS, 500)
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [500] * MAX_ATTEMPTS
    got = receiver.at("/down")
    assert len(got) == MAX_ATTEMPTS >= 2
    assert all(r.verified for r in got) and {r.webhook_id for r in got} == {delivery.webhook_id}

    client.force_login(cast.support)
    page = client.get(reverse("core:outbox_dead_letters")).content.decode()
    assert f"Webhook {delivery.webhook_id} → ITSM A" in page
    assert reverse("ordering:order_detail", args=[order.pk]) in page
