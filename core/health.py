"""Health endpoints for the load balancer and monitoring.

`/healthz`: the process answers requests. Touches nothing else, so a database or broker outage
never makes the load balancer restart healthy web processes.

`/readyz`: this instance can do its work: the database answers and has every migration applied,
the broker answers and every queue has a live worker (when a broker is configured; core/workers.py),
private storage takes a file and has room left, and the outbox is not backing up. 200 when all hold,
503 otherwise.

Both are public (a load balancer has no login), so they answer with check names and "ok",
"failed" or "skipped" and nothing else; why a check failed goes to the log.
"""

import logging
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from core.outbox import outbox_backlog
from core.workers import queues_needing_a_worker, worker_silences

logger = logging.getLogger(__name__)

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


class NotReady(Exception):
    pass


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_migrations() -> None:
    # About 3 ms once the migration modules are imported (the first probe imports them).
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise NotReady("migrations not applied")


def check_outbox() -> None:
    backlog = outbox_backlog()
    if backlog > settings.READY_OUTBOX_BACKLOG_MAX:
        raise NotReady(f"{backlog} outbox messages waiting")


def _broker():
    # The project's Celery app (config/celery.py makes it the default in every thread); core sits below
    # config and does not import it.
    from celery import current_app as celery_app

    timeout = settings.READY_BROKER_TIMEOUT
    options = {**celery_app.conf.broker_transport_options, "socket_timeout": timeout}
    return celery_app.connection_for_write(
        settings.CELERY_BROKER_URL, connect_timeout=timeout, transport_options=options
    )


def check_broker() -> None:
    with _broker() as broker:
        # One immediate retry at most, bounded in all by the timeout: a probe must not hang.
        timeout = settings.READY_BROKER_TIMEOUT
        broker.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)


def check_workers() -> None:
    queues = queues_needing_a_worker()
    with _broker() as broker:
        silences = worker_silences(broker.default_channel.client, queues)
    silent = {queue: s for queue, s in silences.items() if s is None or s > settings.READY_WORKER_SILENT_SECONDS}
    if silent:
        raise NotReady(f"no worker seen for queues {silent} (seconds; None: never)")


def check_storage() -> None:
    location = getattr(default_storage, "location", None)
    # Saving would create a missing root, so an unmounted volume would pass while files went to the local disk.
    if location is not None and not Path(location).is_dir():
        raise NotReady("private storage root is not a directory")
    # Nearly full is not ready: a render or an upload would fail (or leave half a file) long before 0 bytes.
    if location is not None and (free := shutil.disk_usage(location).free) < settings.READY_STORAGE_MIN_FREE_BYTES:
        raise NotReady(f"private storage has {free} bytes free, less than READY_STORAGE_MIN_FREE_BYTES")
    name = default_storage.save(f".readyz-{uuid.uuid4().hex}", ContentFile(b"ready"))
    default_storage.delete(name)


def readiness_checks() -> list[tuple[str, Callable[[], None]]]:
    checks = [("database", check_database), ("migrations", check_migrations), ("outbox", check_outbox)]
    if settings.CELERY_BROKER_URL:  # without one, tasks run in-process: nothing to reach
        checks.append(("broker", check_broker))
        checks.append(("worker", check_workers))
    checks.append(("storage", check_storage))
    return checks


def readiness() -> dict[str, str]:
    """Each check's name and "ok", "failed", or "skipped" when it needs the database and that failed."""
    results: dict[str, str] = {}
    for name, check in readiness_checks():
        if name in {"migrations", "outbox"} and results["database"] != OK:
            results[name] = SKIPPED
            continue
        if name == "worker" and results["broker"] != OK:  # the workers note themselves in the broker
            results[name] = SKIPPED
            continue
        try:
            check()
        except Exception:
            logger.warning("Readiness check %s failed", name, exc_info=True, extra={"check": name})
            results[name] = FAILED
        else:
            results[name] = OK
    return results


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": OK})


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = readiness()
    ready = all(result == OK for result in checks.values())
    return JsonResponse({"status": OK if ready else FAILED, "checks": checks}, status=200 if ready else 503)
