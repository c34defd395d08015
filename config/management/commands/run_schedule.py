"""The beat schedule without beat: for `make run`, where Celery has no broker and runs every task in-process.

Beat only publishes to a broker; without one nothing would ever sweep the outbox, so an e-mail or a webhook
whose first attempt failed (a receiver down, a mail server refusing) would wait forever for its retry.
`make run` starts this beside the server, as it starts the demo identity provider, and stops it with it. It
runs CELERY_BEAT_SCHEDULE's entries here, each at its time: those on an interval (the outbox sweep, the
addendum documents' recovery, the audit checkpoint) at once and then every interval, the daily and monthly
ones (crontab) at their next time. With a broker, `make worker` and `make beat` do this instead (README.md).
"""

import logging
import time

from celery.schedules import crontab, maybe_schedule
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from config.celery import app

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the beat schedule (CELERY_BEAT_SCHEDULE) in this process, without a broker: the outbox's retries "
        "and the other scheduled work of `make run`. --once runs what is due now and stops."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Run the entries due now once, then stop.")

    def handle(self, *args, once: bool = False, **options) -> None:
        if settings.CELERY_BROKER_URL:
            raise CommandError(
                "CELERY_BROKER_URL is set: the schedule is beat's then. Start `make worker` and `make beat` instead."
            )
        app.autodiscover_tasks(force=True)  # every app's tasks.py, as a worker imports them at start
        trace = logging.getLogger("celery.app.trace")
        level = trace.level
        if options.get("verbosity", 1) < 2:
            # Celery logs every run ("Task core.tasks.sweep_outbox[…] succeeded"), twice a minute; -v 2 shows them.
            trace.setLevel(logging.WARNING)
        try:
            self._loop(once)
        except KeyboardInterrupt:
            pass
        finally:
            trace.setLevel(level)

    def _loop(self, once: bool) -> None:
        entries = settings.CELERY_BEAT_SCHEDULE
        schedules = {name: maybe_schedule(entry["schedule"], app=app) for name, entry in entries.items()}
        # An interval entry is due at once (a retry may have waited while nothing ran); a crontab one at its next time.
        last_run = {name: app.now() if isinstance(every, crontab) else None for name, every in schedules.items()}
        if not once:
            self.stdout.write(
                f"Scheduled work runs here without beat: failed e-mails and webhooks are tried again (the outbox "
                f"sweep, every {settings.OUTBOX_SWEEP_SECONDS} s), and {len(entries) - 1} other entries of "
                "CELERY_BEAT_SCHEDULE at their times."
            )
        while True:
            for name, entry in entries.items():
                if last_run[name] is not None and not schedules[name].is_due(last_run[name]).is_due:
                    continue
                last_run[name] = app.now()
                self._run(name, entry)
            if once:
                return
            time.sleep(1)

    def _run(self, name: str, entry: dict) -> None:
        try:
            app.tasks[entry["task"]].apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {})).get()
        except Exception:
            # One entry failing (a database locked for a moment) must not stop the others or the next run.
            logger.exception("Scheduled task %s (%s) failed; it runs again at its next time", name, entry["task"])
