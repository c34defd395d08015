"""The example systemd units (deploy/systemd/) run what the README says, with queues the settings use,
and are restarted by systemd whatever ends them."""

import configparser
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from celery.app.utils import find_app
from django.conf import settings

from config import celery_app
from core.workers import queues_needing_a_worker

UNITS = Path(settings.BASE_DIR) / "deploy" / "systemd"
WORKERS = {"opus-adgang-worker.service", "opus-adgang-webhook-worker.service"}
EVERY_UNIT = WORKERS | {"opus-adgang-web.service", "opus-adgang-beat.service"}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd's keys are case-sensitive
    parser.read(UNITS / name, encoding="utf-8")
    return parser


def command(name: str) -> list[str]:
    return shlex.split(unit(name)["Service"]["ExecStart"].replace("%%", "%"))


def option(arguments: list[str], name: str) -> str:
    [value] = [a.split("=", 1)[1] for a in arguments if a.startswith(f"{name}=")]
    return value


def test_there_is_a_unit_for_the_web_each_worker_and_one_beat():
    assert {path.name for path in UNITS.glob("*.service")} == EVERY_UNIT


@pytest.mark.parametrize("name", sorted(EVERY_UNIT))
def test_every_unit_is_restarted_whatever_ends_it_with_the_shared_environment(name):
    parsed = unit(name)
    assert parsed["Service"]["Restart"] == "always"
    assert parsed["Unit"]["StartLimitIntervalSec"] == "0"  # systemd never gives up restarting it
    assert parsed["Service"]["EnvironmentFile"] == "/etc/opus-adgang/opus-adgang.env"
    assert parsed["Install"]["WantedBy"] == "multi-user.target"


def test_the_celery_units_run_this_projects_app_and_gunicorn_its_wsgi_application():
    from config.wsgi import application

    assert application is not None
    assert command("opus-adgang-web.service")[:2] == ["/srv/opus-adgang/app/.venv/bin/gunicorn", "config.wsgi"]
    for name in WORKERS | {"opus-adgang-beat.service"}:
        program, *arguments = command(name)
        assert program == "/srv/opus-adgang/app/.venv/bin/celery"
        assert arguments[:2] == ["-A", "config"]
        assert find_app(arguments[1]) is celery_app  # what `celery -A config` loads
    assert command("opus-adgang-beat.service")[3] == "beat"


def test_the_two_workers_serve_every_queue_work_is_sent_to_one_each():
    default = command("opus-adgang-worker.service")
    webhooks = command("opus-adgang-webhook-worker.service")
    assert option(default, "--queues") == settings.CELERY_TASK_DEFAULT_QUEUE
    assert option(webhooks, "--queues") == settings.WEBHOOK_QUEUE
    assert sorted([option(default, "--queues"), option(webhooks, "--queues")]) == queues_needing_a_worker()
    # Two workers on one machine need names of their own.
    assert option(default, "--hostname") != option(webhooks, "--hostname")


def test_make_worker_and_make_webhook_worker_serve_the_same_queues_as_the_units():
    makefile = (Path(settings.BASE_DIR) / "Makefile").read_text()
    targets = dict(re.findall(r"^(worker|webhook-worker): install\n\t.*--queues=(\S+)", makefile, re.MULTILINE))
    assert targets == {"worker": settings.CELERY_TASK_DEFAULT_QUEUE, "webhook-worker": settings.WEBHOOK_QUEUE}


def test_every_variable_of_the_example_environment_is_in_the_readmes_settings_table():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text()
    example = (UNITS / "opus-adgang.env.example").read_text()
    names = re.findall(r"^([A-Z_]+)=", example, re.MULTILINE)
    assert "CELERY_BROKER_URL" in names
    gunicorns_own = {"WEB_CONCURRENCY"}
    assert [n for n in names if n not in gunicorns_own and f"`{n}`" not in readme] == []


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_systemd_finds_nothing_wrong_in_the_units_but_the_install_paths_missing_here():
    result = subprocess.run(  # noqa: S603 - a fixed command on the repository's files
        ["systemd-analyze", "verify", "--man=no", *sorted(str(UNITS / name) for name in EVERY_UNIT)],  # noqa: S607
        capture_output=True,
        text=True,
        timeout=60,
    )
    problems = [line for line in result.stderr.splitlines() if line and "is not executable" not in line]
    assert problems == []
