"""The broker dies under a busy worker and comes back empty: the worker stays up, reconnects by itself, and
every outbox message is still delivered exactly once. Beat waits for the broker the same way. And /readyz
notices a worker that is gone.

Redis here is the test's own (tests/reliability/workers.py, RedisServer), killed and started again on the
same port, without persistence: every queued message dies with it, as on a broker host that is replaced.
The outbox (core/outbox.py) is what brings the work back; the worker only has to survive and reconnect.
"""

import time
import uuid

import pytest
import redis
from django.db import connection

from core.health import NotReady, check_workers
from core.models import OutboxMessage
from ordering import services
from ordering.models import Addendum
from tests.real_broker import send_tasks_to
from tests.reliability.workers import REDIS_SERVER, Workers, wait_for

QUEUE = f"outage-{uuid.uuid4().hex[:12]}"
CLAIM_SECONDS, SWEEP_SECONDS = 30, 1  # the claim outlasts the slow render: nobody takes it over meanwhile
SLOW_RENDER_SECONDS = 12
OUTAGE_SECONDS = 5
SILENT_SECONDS = 4  # READY_WORKER_SILENT_SECONDS: the workers note themselves every second

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.processes,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the worker shares the test database: PostgreSQL"),
    pytest.mark.skipif(REDIS_SERVER is None, reason="needs redis-server on PATH for a broker of the test's own"),
]


@pytest.fixture
def workers(transactional_db, tmp_path, broker):
    started = Workers(
        tmp_path, broker_url=broker.url, queue=QUEUE, claim_seconds=CLAIM_SECONDS, sweep_seconds=SWEEP_SECONDS
    )
    yield started
    started.stop_all()


@pytest.fixture
def readyz_sees(settings, broker):
    """/readyz's worker check, in this process, looks at the test's broker and queue."""
    settings.CELERY_BROKER_URL = broker.url
    settings.CELERY_TASK_DEFAULT_QUEUE = settings.WEBHOOK_QUEUE = QUEUE
    settings.READY_WORKER_SILENT_SECONDS = SILENT_SECONDS


@pytest.fixture
def through_the_broker(broker):
    restore = []
    yield lambda: restore.append(send_tasks_to(QUEUE, broker_url=broker.url))
    for undo in restore:
        undo()


def addendum_of(order) -> Addendum:
    return Addendum.objects.filter(order=order).order_by("-version").first()


def test_the_broker_killed_under_a_busy_worker_the_worker_reconnects_and_delivers_everything_once(
    cast, order_in, broker, workers, through_the_broker, readyz_sees
):
    first, second = order_in("submitted"), order_in("submitted", customer=cast.customer_b)
    through_the_broker()
    marker = workers.tmp_path / "render-started"
    worker = workers.start(
        RELIABILITY_SLOW_RENDER_MARKER=str(marker),
        RELIABILITY_SLOW_RENDER_SECONDS=str(SLOW_RENDER_SECONDS),
        READY_WORKER_SILENT_SECONDS=str(SILENT_SECONDS),
    )
    first = services.order_issue_addendum(order=first, actor=cast.am_a)
    wait_for(marker.exists, seconds=30, workers=workers, what="the first render starts")
    wait_for(lambda: workers.mails(), seconds=15, workers=workers, what="the first signatory's e-mail")

    broker.kill()  # while the worker holds the render (acks_late: not yet acknowledged)
    # Work committed during the outage: its hand-over to the broker fails, and the outbox keeps it.
    second = services.order_issue_addendum(order=second, actor=second.customer.account_manager)
    assert OutboxMessage.objects.filter(order_id=second.pk, status="pending", dispatched_at__isnull=True).count() == 2
    time.sleep(OUTAGE_SECONDS)
    assert worker.poll() is None, workers.log_tail()
    broker.start()

    everything_delivered = lambda: not OutboxMessage.objects.exclude(status="delivered").exists()  # noqa: E731
    # Bound: the held render ends (SLOW_RENDER_SECONDS from its start), the worker reconnects (Celery's back-off
    # is 2, 4, 6 … s), and the beat's next sweep hands the waiting messages over; renders take seconds.
    wait_for(everything_delivered, seconds=SLOW_RENDER_SECONDS + 30, workers=workers, what="every message delivered")
    assert addendum_of(first).render_status == addendum_of(second).render_status == "ready"
    time.sleep(2)  # what the broker may still hand out again must send nothing
    assert worker.poll() is None, workers.log_tail()
    assert workers.mails() == [("signatory_a@example.test",), ("signatory_b@example.test",)]
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}  # each ran once
    log = workers.log()
    assert "Unrecoverable error" not in log
    assert log.count("Connected to redis") >= 2  # at start, and again after the outage
    assert "(1/100)" not in log  # retries without a limit
    check_workers()  # the broker came back empty, and the worker has noted itself alive again


def test_readyz_notices_a_worker_that_is_gone(transactional_db, workers, readyz_sees):
    worker = workers.start(READY_WORKER_SILENT_SECONDS=str(SILENT_SECONDS))
    wait_for(lambda: " ready." in workers.log(), seconds=30, workers=workers, what="the worker starts")
    check_workers()
    workers.kill(worker)
    check_workers()  # silent for less than SILENT_SECONDS yet
    time.sleep(SILENT_SECONDS + 0.5)
    with pytest.raises(NotReady, match=QUEUE):
        check_workers()


def test_beat_started_while_the_broker_is_down_waits_for_it_and_survives_it_going_away_again(
    transactional_db, broker, workers
):
    queued = lambda: redis.Redis(port=broker.port).llen(QUEUE)  # noqa: E731 - the sweeps beat sends, every second
    broker.kill()
    beat = workers.start_beat()
    time.sleep(OUTAGE_SECONDS)
    assert beat.poll() is None, workers.log_tail()
    # Its first try may come later than OUTAGE_SECONDS on a busy machine (CI's two runs share two cores): beat
    # only starts to connect once Python and Django are loaded.
    wait_for(lambda: "Trying again" in workers.log(), seconds=30, workers=workers, what="beat retries the broker")
    assert beat.poll() is None, workers.log_tail()

    broker.start()
    wait_for(queued, seconds=30, workers=workers, what="beat schedules once the broker is there")
    broker.kill()
    time.sleep(OUTAGE_SECONDS)
    broker.start()  # empty again: what is queued now, beat sent after the outage
    wait_for(queued, seconds=30, workers=workers, what="beat schedules again after the outage")
    assert beat.poll() is None, workers.log_tail()
