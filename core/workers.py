"""Whether the Celery workers are alive, for /readyz: every worker notes, per queue it serves, when it was
last seen, and /readyz fails when a queue has had no worker for READY_WORKER_SILENT_SECONDS.

Where: a key per queue in the broker (Redis). /readyz reaches the broker anyway, a GET per queue is all it
costs, and the database gets no write every few seconds from every worker. A Redis that comes back empty
has forgotten the workers only until their next note (WORKER_HEARTBEAT_SECONDS).

Who writes: a timer in the worker's main process (a bootstep, config/celery.py), not a task. A task would
wait behind the queue's work — webhooks to a slow receiver holding every slot — and report a busy worker
as dead; the timer runs while the process lives and its event loop turns.
"""

import logging
import time

from celery import bootsteps
from django.conf import settings

logger = logging.getLogger(__name__)

KEY = "opus-adgang:worker-seen:{queue}"


def queues_needing_a_worker() -> list[str]:
    """Every queue work is sent to: the default one, and webhook deliveries' own (core.outbox.Handler.queue)."""
    return sorted({settings.CELERY_TASK_DEFAULT_QUEUE, settings.WEBHOOK_QUEUE})


def workers_seen(client, queues, *, now: float | None = None) -> None:
    """Note that a worker serving `queues` is alive (a Redis client: the broker's)."""
    now = time.time() if now is None else now
    pipe = client.pipeline()
    for queue in queues:
        # Kept a day: long enough to say "silent for hours", short enough that a retired queue's key goes away.
        pipe.set(KEY.format(queue=queue), repr(now), ex=24 * 3600)
    pipe.execute()


def worker_silences(client, queues, *, now: float | None = None) -> dict[str, float | None]:
    """Seconds since a worker serving each queue was last seen; None: never (or not for a day)."""
    now = time.time() if now is None else now
    seen = client.mget([KEY.format(queue=queue) for queue in queues])
    return {queue: (now - float(at) if at is not None else None) for queue, at in zip(queues, seen, strict=True)}


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Every WORKER_HEARTBEAT_SECONDS, note the queues this worker consumes as seen (a timer of the worker)."""

    requires = ("celery.worker.components:Timer",)

    def __init__(self, worker, **kwargs) -> None:
        super().__init__(worker, **kwargs)
        self.entry = None

    def start(self, worker) -> None:
        if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
            return  # no broker (tasks run in-process) or not Redis: nothing to note it in
        self.beat(worker)
        self.entry = worker.timer.call_repeatedly(settings.WORKER_HEARTBEAT_SECONDS, self.beat, (worker,))

    def stop(self, worker) -> None:
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None

    def beat(self, worker) -> None:
        queues = sorted(worker.app.amqp.queues.consume_from)
        timeout = settings.READY_BROKER_TIMEOUT  # the main process must not hang on a broker that stalls
        try:
            with worker.app.connection_for_write(
                connect_timeout=timeout, transport_options={"socket_timeout": timeout}
            ) as broker:
                workers_seen(broker.default_channel.client, queues)
        except Exception as error:  # the broker is away: the consumer reconnects, the next beat notes again
            logger.warning("Could not note this worker as alive in the broker: %s", error)
