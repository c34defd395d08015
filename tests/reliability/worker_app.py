"""The Celery app for the reliability tests' worker: the project's own app, with what a test asks for.

Started only by tests/reliability/test_worker_faults.py (`celery -A tests.reliability.worker_app worker`).
Production code has no test hooks: everything the tests change is changed here, from the environment
the test gives the worker.

- RELIABILITY_QUEUE: the one queue this test session's workers and publishers use.
- RELIABILITY_SWEEP_SECONDS, RELIABILITY_CLAIM_SECONDS, RELIABILITY_BACKOFF_SECONDS: the outbox's
  timings, shortened so a scenario takes seconds rather than minutes.
- RELIABILITY_SLOW_RENDER_MARKER: the first render (across worker restarts) writes this file and then
  sleeps RELIABILITY_SLOW_RENDER_SECONDS (120: until the test kills the worker), so the test can fault
  the worker or its broker mid-render.
- RELIABILITY_DISK_FULL_WHILE: while this file exists, private storage is full (tests/disk_full.py:
  a file's first KB is written, then ENOSPC); the test removes it when space returns.
"""

import os
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402

from config.celery import app  # noqa: E402
from ordering import documents  # noqa: E402

SWEEP_SECONDS = float(os.environ.get("RELIABILITY_SWEEP_SECONDS", "1"))

settings.OUTBOX_SWEEP_SECONDS = SWEEP_SECONDS
settings.OUTBOX_CLAIM_SECONDS = int(os.environ.get("RELIABILITY_CLAIM_SECONDS", "5"))
settings.OUTBOX_BACKOFF_SECONDS = int(os.environ.get("RELIABILITY_BACKOFF_SECONDS", "1"))
settings.OUTBOX_BACKOFF_MAX_SECONDS = 4

app.conf.task_default_queue = os.environ["RELIABILITY_QUEUE"]
app.conf.beat_schedule = {
    "outbox-sweep": {"task": "core.tasks.sweep_outbox", "schedule": SWEEP_SECONDS},
    "addendum-documents": {"task": "ordering.tasks.recover_addendum_documents", "schedule": SWEEP_SECONDS},
}

_render = documents.html_to_pdf
_slow_marker = os.environ.get("RELIABILITY_SLOW_RENDER_MARKER")
_slow_seconds = float(os.environ.get("RELIABILITY_SLOW_RENDER_SECONDS", "120"))


def html_to_pdf(html: str) -> bytes:
    if _slow_marker and not Path(_slow_marker).exists():
        Path(_slow_marker).write_text(str(os.getpid()))
        time.sleep(_slow_seconds)
    return _render(html)


documents.html_to_pdf = html_to_pdf

if os.environ.get("RELIABILITY_DISK_FULL_WHILE"):
    from tests.disk_full import DiskFull

    os.write = DiskFull(
        settings.STORAGES["default"]["OPTIONS"]["location"],
        room=1024,
        while_exists=os.environ["RELIABILITY_DISK_FULL_WHILE"],
    )
