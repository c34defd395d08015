"""Settings come from the environment, and refuse to serve without a secret key."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load_settings(**env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DJANGO_DEBUG", "ALLOWED_HOSTS"} and not k.startswith("AUDIT_")
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from config import settings as s; print(s.DEBUG, s.ALLOWED_HOSTS, s.CELERY_TASK_ALWAYS_EAGER)",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_serving_hosts_without_a_secret_key_is_refused():
    result = load_settings(ALLOWED_HOSTS="adgang.example.dk")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_serving_hosts_without_an_audit_key_is_refused():
    result = load_settings(ALLOWED_HOSTS="adgang.example.dk", SECRET_KEY="k")
    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"DJANGO_DEBUG": "1"}, "True ['127.0.0.1', 'localhost']"),
        ({}, "False []"),
        (
            {"SECRET_KEY": "k", "AUDIT_HMAC_KEY": "a", "ALLOWED_HOSTS": "a.example,b.example"},
            "False ['a.example', 'b.example']",
        ),
    ],
)
def test_settings_follow_the_environment(env, expected):
    result = load_settings(**env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(expected)


def test_without_a_broker_tasks_run_eagerly():
    result = load_settings(CELERY_BROKER_URL="")
    assert result.stdout.strip().endswith("True")
    result = load_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    assert result.stdout.strip().endswith("False")


@pytest.mark.parametrize(("max_age", "expected"), [(None, "60 True"), ("0", "0 True")])
def test_database_connections_are_kept_a_minute_and_checked_before_reuse(max_age, expected):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_CONN_MAX_AGE"}
    if max_age is not None:
        env["DATABASE_CONN_MAX_AGE"] = max_age
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from config import settings as s; d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == expected, result.stderr
