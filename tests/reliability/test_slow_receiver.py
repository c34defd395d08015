"""A webhook receiver that answers after 30 s holds only the webhook worker: renders and e-mails go on.

Webhook deliveries have a Celery queue of their own (settings.WEBHOOK_QUEUE, core.outbox.Handler.queue),
served by a worker of their own, as README.md tells production to run them. Here: a Redis of the test's
own, one worker on the default queue and one on the webhook queue (tests/reliability/workers.py), and a
receiver (tests/webhooks/receiver.py) that keeps every request 30 s, longer than WEBHOOK_TIMEOUT_SECONDS.
"""

import time
import uuid

import pytest
from django.db import connection

from core.models import OutboxMessage
from ordering import services
from ordering.models import Addendum
from tests.real_broker import send_tasks_to
from tests.reliability.workers import REDIS_SERVER, Workers, wait_for
from tests.webhooks.receiver import Receiver
from webhooks.models import WebhookDelivery, WebhookEndpoint

QUEUE = f"slow-{uuid.uuid4().hex[:12]}"
WEBHOOK_QUEUE = f"{QUEUE}-webhooks"
RECEIVER_SECONDS = 30
# Six deliveries on two slots, each held WEBHOOK_TIMEOUT_SECONDS (10 s): sharing those slots, the render
# would start after 30 s. A render takes about a second once the worker runs.
WEBHOOKS = 6
BOUND_SECONDS = 15

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.processes,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the workers share the test database: PostgreSQL"),
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server on PATH for a broker of the test's own"),
]


@pytest.fixture
def workers(transactional_db, tmp_path, broker):
    started = Workers(tmp_path, broker_url=broker.url, queue=QUEUE, claim_seconds=150, sweep_seconds=1)
    yield started
    started.stop_all()


@pytest.fixture
def slow_receiver(settings):
    settings.WEBHOOK_REQUIRE_HTTPS = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    with Receiver() as running:
        yield running


def test_a_receiver_answering_after_30_seconds_never_delays_a_render_or_an_email(
    cast, order_in, broker, workers, slow_receiver
):
    order = order_in("submitted")
    other = order_in("draft", customer=cast.customer_b)
    for number in range(WEBHOOKS):
        endpoint = WebhookEndpoint.objects.create(url=slow_receiver.url(f"/itsm-{number}"), customer=cast.customer_b)
        slow_receiver.listen(f"/itsm-{number}", endpoint.secret, delay=RECEIVER_SECONDS)
    receivers = {"WEBHOOK_REQUIRE_HTTPS": "0", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32"}
    workers.start(webhook_queue=WEBHOOK_QUEUE, **receivers)  # the default queue; with the beat
    workers.start(queues=WEBHOOK_QUEUE, webhook_queue=WEBHOOK_QUEUE, beat=False, **receivers)
    restore = send_tasks_to(QUEUE, broker_url=broker.url, webhook_queue=WEBHOOK_QUEUE)
    try:
        wait_for(lambda: workers.log().count(" ready.") == 2, seconds=30, workers=workers, what="both workers start")
        services.order_submit(order=other, actor=cast.orderer_b)  # a webhook to each slow receiver
        # The webhook worker's two slots are held (each for WEBHOOK_TIMEOUT_SECONDS), more deliveries queue behind.
        wait_for(lambda: len(slow_receiver.received) >= 2, seconds=30, workers=workers, what="webhooks are sent")

        started = time.monotonic()
        order = services.order_issue_addendum(order=order, actor=cast.am_a)
        addendum = Addendum.objects.filter(order=order).order_by("-version").first
        wait_for(lambda: addendum().render_status == "ready", seconds=BOUND_SECONDS, workers=workers, what="render")
        signed = ("signatory_a@example.test",)
        wait_for(lambda: signed in workers.mails(), seconds=BOUND_SECONDS, workers=workers, what="the e-mail")
        took = time.monotonic() - started
    finally:
        restore()

    assert took < BOUND_SECONDS
    assert workers.mails().count(signed) == 1
    # … while the webhooks still wait for their receivers (or for their next attempt): none delivered.
    deliveries = WebhookDelivery.objects.filter(endpoint__customer=cast.customer_b)
    assert deliveries.count() == WEBHOOKS and not deliveries.filter(status="delivered").exists()
    # The render's row is marked delivered in a statement after the handler's commit: wait for it, do not race it.
    rendered = OutboxMessage.objects.filter(handler="ordering.render_addendum", order_id=order.pk, status="delivered")
    wait_for(rendered.exists, seconds=10, workers=workers, what="the render's outbox row marked delivered")
