"""Real Celery worker processes and a Redis of a test's own, for the reliability tests.

A worker runs tests/reliability/worker_app.py (the project's app with shortened outbox timings) with its own
beat, on this session's test database and a queue of the test's own, so parallel runs on one Redis never
take each other's tasks. `RedisServer` is a broker the test may kill and start again, which the shared
Redis (CELERY_BROKER_URL) must never be.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings

from tests.real_broker import worker_database_url

from . import mailbox

BASE_DIR = Path(django_settings.BASE_DIR)
REDIS_SERVER = shutil.which("redis-server")


class Workers:
    """Starts, kills and stops a test's worker processes (each with its own beat: the sweep)."""

    def __init__(self, tmp_path: Path, *, broker_url: str, queue: str, claim_seconds: int, sweep_seconds: float):
        self.tmp_path = tmp_path
        self.broker_url, self.queue = broker_url, queue
        self.claim_seconds, self.sweep_seconds = claim_seconds, sweep_seconds
        self.mailbox = tmp_path / "mailbox.jsonl"
        self.running: list[subprocess.Popen] = []
        self.logs: list[Path] = []

    def start(
        self,
        *,
        queues: str | None = None,
        webhook_queue: str | None = None,
        concurrency: int = 2,
        beat: bool = True,
        **extra_env: str,
    ) -> subprocess.Popen:
        """A worker consuming `queues` (comma-separated; this test's queue by default); webhooks it dispatches go
        to `webhook_queue` (by default this test's queue too, as tests.real_broker.send_tasks_to sends them)."""
        number = len(self.logs) + 1
        command = [
            "worker",
            *(["--beat", f"--schedule={self.tmp_path / f'beat-{number}'}"] if beat else []),
            f"--queues={queues or self.queue}",
            f"--hostname={self.queue}-{number}@%h",
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ]
        return self._run(command, f"worker-{number}.log", webhook_queue, extra_env)

    def start_beat(self) -> subprocess.Popen:
        """Beat alone, as production runs it (one process, no worker)."""
        number = len(self.logs) + 1
        command = ["beat", f"--schedule={self.tmp_path / f'beat-{number}'}", "--loglevel=INFO"]
        return self._run(command, f"beat-{number}.log", None, {})

    def _run(self, command: list[str], log_name: str, webhook_queue: str | None, extra_env: dict) -> subprocess.Popen:
        log = self.tmp_path / log_name
        env = {
            **os.environ,
            "DATABASE_URL": worker_database_url(),
            "CELERY_BROKER_URL": self.broker_url,
            "PRIVATE_STORAGE_ROOT": str(self.tmp_path / "private"),  # what the test's storage uses (conftest)
            "EMAIL_BACKEND": "tests.reliability.mailbox.EmailBackend",
            "RELIABILITY_MAILBOX": str(self.mailbox),
            "RELIABILITY_QUEUE": self.queue,
            "WEBHOOK_QUEUE": webhook_queue or self.queue,
            "RELIABILITY_SWEEP_SECONDS": str(self.sweep_seconds),
            "RELIABILITY_CLAIM_SECONDS": str(self.claim_seconds),
            "RELIABILITY_BACKOFF_SECONDS": "1",
            "LOG_FORMAT": "text",
            **extra_env,
        }
        command = [sys.executable, "-m", "celery", "-A", "tests.reliability.worker_app", *command]
        with open(log, "wb") as output:
            worker = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command, cwd=BASE_DIR, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.running.append(worker)
        self.logs.append(log)
        return worker

    def kill(self, worker: subprocess.Popen) -> None:
        """SIGKILL to the worker and its pool processes at once, as when a machine or container dies."""
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        self.running.remove(worker)

    def stop_all(self) -> None:
        for worker in self.running:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)  # warm shutdown: running tasks finish and are acknowledged
        for worker in self.running:
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=5)
        self.running.clear()

    def log(self) -> str:
        return "\n".join(log.read_text(errors="replace") for log in self.logs)

    def log_tail(self) -> str:
        return "\n".join(f"--- {log.name}\n" + log.read_text(errors="replace")[-4000:] for log in self.logs)

    def mails(self) -> list[tuple[str, ...]]:
        return sorted(tuple(m["to"]) for m in mailbox.read(self.mailbox))


def wait_for(condition, *, seconds: float, workers: Workers, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"not within {seconds} s: {what}\n{workers.log_tail()}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server of the test's own, without persistence: killing it loses every queued message, as a
    broker that dies and comes back empty does."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log = tmp_path / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)  # noqa: S603
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
