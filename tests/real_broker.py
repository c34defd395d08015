"""What the tests with a real Celery worker share: the broker, the test database's URL for the worker,
a broker outage in this process, and sending this process's tasks to a queue of the test's own.

tests/reliability/test_worker_faults.py and tests/webhooks/test_worker.py start their workers
differently (their own app and timings); the rest is here, once.
"""

import os
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import connection

from config import celery_app

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused


def worker_database_url() -> str:
    """This session's test database, for a worker process started by the test."""
    db = connection.settings_dict
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class BrokerOutage:
    """This process's broker connection refused, as when Redis is down or unreachable from the web server."""

    def __enter__(self):
        celery_app.conf.broker_write_url = UNREACHABLE_BROKER
        celery_app._after_fork()  # drop pooled connections to the real broker
        return self

    def __exit__(self, *exc):
        celery_app.conf.broker_write_url = BROKER_URL
        celery_app._after_fork()


def forget_routing() -> None:
    """Celery caches its queues and router from the configuration on first use; rebuild them from it."""
    for cached in ("queues", "default_queue", "router"):
        celery_app.amqp.__dict__.pop(cached, None)


def send_tasks_to(queue: str, *, broker_url: str | None = None, webhook_queue: str | None = None) -> Callable[[], None]:
    """From now on this process's tasks go to `queue` on the real broker (or `broker_url`), as in production,
    instead of running in-process (as they did while the test's cast was built); webhook deliveries go to
    `webhook_queue`, by default the same queue (never the shared Redis's real one). Returns what puts it back."""
    conf = celery_app.conf
    previous = conf.task_always_eager, conf.task_default_queue, conf.broker_write_url, settings.WEBHOOK_QUEUE
    conf.task_always_eager = False
    conf.task_default_queue = queue
    settings.WEBHOOK_QUEUE = webhook_queue or queue
    if broker_url:
        conf.broker_write_url = broker_url
        celery_app._after_fork()  # drop pooled connections to the other broker
    forget_routing()

    def restore() -> None:
        conf.task_always_eager, conf.task_default_queue, conf.broker_write_url, settings.WEBHOOK_QUEUE = previous
        if broker_url:
            celery_app._after_fork()
        forget_routing()

    return restore


def empty_queue(queue: str) -> None:
    """Purge the session's queue and kombu's routing table for it: nothing sends to it again."""
    if not BROKER_URL:
        return
    with celery_app.connection_for_write(BROKER_URL) as broker:
        channel = broker.default_channel
        channel.queue_purge(queue)
        channel.client.delete(f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def queue_fixtures(queue: str):
    """The fixtures of a test module whose worker listens on `queue`; assign them to these names in the module:

    through_the_broker, empty_queue_afterwards = queue_fixtures(QUEUE)
    """

    @pytest.fixture
    def through_the_broker():
        """Call it once the test's cast is in place: from then on, tasks go to this session's queue."""
        restore = []
        yield lambda: restore.append(send_tasks_to(queue))
        for undo in restore:
            undo()

    @pytest.fixture(scope="module", autouse=True)
    def empty_queue_afterwards():
        yield
        empty_queue(queue)

    return through_the_broker, empty_queue_afterwards
