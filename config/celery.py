import os

from celery import Celery, signals
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def _patch_kombu_redis_closed_transport() -> None:
    """A worker holding unacknowledged tasks must survive its Redis going away (kombu 5.7.0, celery 5.7.0).

    On a lost connection Celery first collects the broken connection (kombu's Connection.collect), which clears
    the transport's `client` even when closing the channel failed half-way (Channel.close reads the pending
    BRPOP first, and that raises while Redis is down). Celery then closes the connection again; now the channel
    closes for real and gives its unacknowledged messages back to Redis through a fresh pool, whose settings
    come from the cleared client: AttributeError("'NoneType' object has no attribute 'hostname'"). That is no
    connection error, so nothing catches it and the worker stops ("Unrecoverable error"); a task finishing later
    hits the same when it acknowledges its message on the old channel.

    Asking a closed transport for a connection is a connection error: channel.close() and message.ack() already
    ignore (and log) those, and the worker goes on to reconnect with back-off. Nothing is lost: the message stays
    in Redis's unacknowledged set (given back after the visibility timeout) or died with Redis, and the outbox
    row, the source of truth, is delivered by the task that holds it or swept up again (core/outbox.py).
    Remove when kombu's Redis transport no longer builds a pool from a closed transport
    (tests/reliability/test_broker_outage.py shows it).
    """
    connparams = kombu_redis.Channel._connparams
    if getattr(connparams, "closed_transport_is_a_connection_error", False):
        return

    def _connparams(self, asynchronous=False):
        if self.connection.client is None:
            raise kombu_redis.redis.ConnectionError("the broker connection of this channel was closed")
        return connparams(self, asynchronous=asynchronous)

    _connparams.closed_transport_is_a_connection_error = True
    kombu_redis.Channel._connparams = _connparams


_patch_kombu_redis_closed_transport()

app = Celery("opus_adgang")
# The current app in every thread, not only this one: shared code (core/health.py, @shared_task) finds
# it as celery.current_app without importing config.
app.set_default()
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker notes itself alive in the broker, for /readyz (core/workers.py).
app.steps["worker"].add("core.workers:WorkerHeartbeat")


@signals.setup_logging.connect
def keep_django_logging(**kwargs) -> None:
    """Leave logging as settings.LOGGING set it: Celery would otherwise replace it with its own plain lines.

    Connecting any receiver is what tells Celery not to configure logging; the worker's log level is
    then LOG_LEVEL, not `--loglevel`.
    """


@signals.worker_init.connect
def worker_has_its_keys(**kwargs) -> None:
    """A worker seals audit events and writes the signed checkpoints (audit/tasks.py): without either key, or
    with a published development key, it stops at start with a sentence naming the variable."""
    from audit.keys import require_keys

    require_keys("AUDIT_HMAC_KEY", "AUDIT_CHECKPOINT_KEY")
