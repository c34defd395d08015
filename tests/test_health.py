"""The load balancer's endpoints: /healthz says the process answers, /readyz that it can do its work."""

import contextlib
import json
import logging
import os
import shutil
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import OperationalError
from django.db.migrations.executor import MigrationExecutor

from core import health
from core.workers import KEY, workers_seen

EVERY_CHECK = {"database", "migrations", "outbox", "storage"}


@pytest.fixture
def ready(db, settings, monkeypatch):
    """An instance with nothing wrong: migrated test database, existing private storage, no broker, empty outbox."""
    Path(settings.STORAGES["default"]["OPTIONS"]["location"]).mkdir(parents=True, exist_ok=True)
    settings.CELERY_BROKER_URL = ""
    return settings


def readyz(client) -> tuple[int, dict]:
    response = client.get("/readyz")
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    # Public endpoint: check names and their outcome, nothing about why.
    assert set(body) == {"status", "checks"}
    assert set(body["checks"].values()) <= {"ok", "failed", "skipped"}
    return response.status_code, body


def test_healthz_answers_ok_without_touching_the_database(client):
    # No `db` fixture: pytest-django refuses any database access here, so this passing proves there was none.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}


def test_readyz_answers_ok_when_everything_is_in_order(ready, client):
    status, body = readyz(client)
    assert status == 200
    assert body == {"status": "ok", "checks": dict.fromkeys(EVERY_CHECK, "ok")}


def test_an_unreachable_database_is_named_and_its_dependent_checks_skipped(ready, client, monkeypatch, caplog):
    def unreachable():
        raise OperationalError('could not connect to server at "db.internal" (10.0.0.7), port 5432')

    monkeypatch.setattr(health, "check_database", unreachable)
    with caplog.at_level(logging.WARNING, logger="core.health"):
        status, body = readyz(client)
    assert status == 503
    assert body["status"] == "failed"
    assert body["checks"] == {"database": "failed", "migrations": "skipped", "outbox": "skipped", "storage": "ok"}
    # The answer says which check failed, never why (readyz() above); the log, for the operator, does.
    logged = [(r.check, r.exc_info[0]) for r in caplog.records if r.name == "core.health"]
    assert logged == [("database", OperationalError)]


def test_an_unreachable_broker_is_named_within_the_timeout(ready, client):
    ready.CELERY_BROKER_URL = "redis://127.0.0.1:1/7"
    ready.READY_BROKER_TIMEOUT = 0.5
    started = time.monotonic()
    status, body = readyz(client)
    assert time.monotonic() - started < 3
    assert status == 503
    assert body["checks"]["broker"] == "failed"
    # The workers note themselves in the broker, so theirs is skipped.
    assert {name: result for name, result in body["checks"].items() if result != "ok"} == {
        "broker": "failed",
        "worker": "skipped",
    }


@pytest.fixture
def real_broker(ready):
    """The real broker, with queues of this test's own (the shared Redis's real ones may have real workers)."""
    from config import celery_app

    ready.CELERY_BROKER_URL = os.environ["CELERY_BROKER_URL"]
    ready.CELERY_TASK_DEFAULT_QUEUE, ready.WEBHOOK_QUEUE = f"health-{uuid.uuid4().hex}", f"health-{uuid.uuid4().hex}"
    with celery_app.connection_for_write(ready.CELERY_BROKER_URL) as broker:
        client = broker.default_channel.client
        yield client
        client.delete(*(KEY.format(queue=q) for q in (ready.CELERY_TASK_DEFAULT_QUEUE, ready.WEBHOOK_QUEUE)))


@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL"), reason="no CELERY_BROKER_URL set")
def test_a_running_broker_with_a_worker_on_every_queue_is_ok(ready, real_broker, client):
    workers_seen(real_broker, [ready.CELERY_TASK_DEFAULT_QUEUE, ready.WEBHOOK_QUEUE])  # as WorkerHeartbeat does
    status, body = readyz(client)
    assert (status, body["checks"]["broker"], body["checks"]["worker"]) == (200, "ok", "ok")


@pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL"), reason="no CELERY_BROKER_URL set")
def test_a_queue_without_a_worker_seen_lately_is_named(ready, real_broker, client):
    ready.READY_WORKER_SILENT_SECONDS = 60
    workers_seen(real_broker, [ready.CELERY_TASK_DEFAULT_QUEUE])  # nobody serves the webhook queue
    assert readyz(client)[1]["checks"]["worker"] == "failed"
    workers_seen(real_broker, [ready.WEBHOOK_QUEUE], now=time.time() - 61)  # its worker stopped a minute ago
    assert readyz(client)[1]["checks"]["worker"] == "failed"
    workers_seen(real_broker, [ready.WEBHOOK_QUEUE])
    assert readyz(client) == (200, {"status": "ok", "checks": dict.fromkeys(EVERY_CHECK | {"broker", "worker"}, "ok")})


def silent_workers(monkeypatch, **silences):
    """The broker answers, and its workers were last seen this many seconds ago (None: never)."""
    monkeypatch.setattr(health, "check_broker", lambda: None)
    monkeypatch.setattr(
        health, "_broker", lambda: contextlib.nullcontext(SimpleNamespace(default_channel=SimpleNamespace(client=None)))
    )
    monkeypatch.setattr(health, "worker_silences", lambda client, queues: {q: silences[q] for q in queues})


def test_a_worker_silent_for_exactly_the_threshold_is_ok_and_any_longer_is_not(ready, client, monkeypatch):
    ready.CELERY_BROKER_URL = "redis://broker.internal:6379/0"
    ready.CELERY_TASK_DEFAULT_QUEUE, ready.WEBHOOK_QUEUE, ready.READY_WORKER_SILENT_SECONDS = "celery", "webhooks", 120
    silent_workers(monkeypatch, celery=120.0, webhooks=3.0)
    assert readyz(client)[0] == 200
    silent_workers(monkeypatch, celery=120.001, webhooks=3.0)
    status, body = readyz(client)
    assert (status, body["checks"]["worker"]) == (503, "failed")
    silent_workers(monkeypatch, celery=3.0, webhooks=None)  # no worker ever served the webhook queue
    assert readyz(client)[1]["checks"]["worker"] == "failed"


def private_storage_at(settings, location: Path) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(location)}},
    }


def test_private_storage_that_cannot_take_a_file_is_named(ready, client, tmp_path):
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")
    private_storage_at(ready, not_a_directory / "private")  # unwritable even for root
    status, body = readyz(client)
    assert (status, body["checks"]["storage"]) == (503, "failed")


def test_a_missing_private_storage_root_is_named_not_created(ready, client, tmp_path):
    # An unmounted volume: creating the directory would send files to the local disk instead.
    private_storage_at(ready, tmp_path / "not-mounted")
    status, body = readyz(client)
    assert (status, body["checks"]["storage"]) == (503, "failed")
    assert not (tmp_path / "not-mounted").exists()


def test_private_storage_with_exactly_the_minimum_free_is_ok_and_a_byte_less_is_not(ready, client, monkeypatch):
    ready.READY_STORAGE_MIN_FREE_BYTES = 500 * 1024 * 1024
    location = ready.STORAGES["default"]["OPTIONS"]["location"]
    asked = []

    def free(bytes_free):
        def disk_usage(path):
            asked.append(str(path))
            return shutil._ntuple_diskusage(total=10**12, used=10**12 - bytes_free, free=bytes_free)

        monkeypatch.setattr(health.shutil, "disk_usage", disk_usage)

    free(500 * 1024 * 1024)
    assert readyz(client)[0] == 200
    free(500 * 1024 * 1024 - 1)
    status, body = readyz(client)
    assert (status, body["checks"]["storage"]) == (503, "failed")
    assert set(asked) == {location}  # the private storage's own volume


def test_the_storage_check_leaves_no_file_behind(ready, client):
    readyz(client)
    assert list(Path(ready.STORAGES["default"]["OPTIONS"]["location"]).iterdir()) == []


def test_unapplied_migrations_are_named(ready, client, monkeypatch):
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("ordering", False)])
    status, body = readyz(client)
    assert (status, body["checks"]["migrations"]) == (503, "failed")


def test_an_outbox_backlog_over_the_threshold_is_named(ready, client, monkeypatch):
    ready.READY_OUTBOX_BACKLOG_MAX = 100
    monkeypatch.setattr(health, "outbox_backlog", lambda: 100)
    assert readyz(client) == (200, {"status": "ok", "checks": dict.fromkeys(EVERY_CHECK, "ok")})
    monkeypatch.setattr(health, "outbox_backlog", lambda: 101)
    status, body = readyz(client)
    assert (status, body["checks"]["outbox"]) == (503, "failed")


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_no_one_caches_an_answer(ready, client, path):
    cache_control = client.get(path)["Cache-Control"]
    assert "no-store" in cache_control and "max-age=0" in cache_control


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_a_load_balancer_probing_over_plain_http_is_answered_not_redirected(ready, client, path):
    ready.SECURE_SSL_REDIRECT = True  # as in production
    assert client.get("/").status_code == 301  # everything else still goes to HTTPS
    response = client.get(path)
    assert response.status_code == 200
