import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("opus_adgang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def keep_django_logging(**kwargs) -> None:
    """Leave logging as settings.LOGGING set it: Celery would otherwise replace it with its own plain lines.

    Connecting any receiver is what tells Celery not to configure logging; the worker's log level is
    then LOG_LEVEL, not `--loglevel`.
    """
