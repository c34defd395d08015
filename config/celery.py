import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("opus_adgang")
# The current app in every thread, not only this one: shared code (core/health.py, @shared_task) finds
# it as celery.current_app without importing config.
app.set_default()
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
