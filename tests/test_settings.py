"""Settings come from the environment, and refuse to serve without a secret key."""

import subprocess

import pytest
from django.db import connection

from tests.processes import machine_environment, run_python


def load_settings(**env) -> subprocess.CompletedProcess:
    """Settings loaded by a fresh process as production loads them: without the test suite's development keys."""
    clean = machine_environment(
        without={"SECRET_KEY", "DJANGO_DEBUG", "ALLOWED_HOSTS", "OPUS_DEVELOPMENT_KEYS"},
        prefixes=("AUDIT_", "ACCESS_REGISTER_"),
    )
    return run_python(
        ["-c", "from config import settings as s; print(s.DEBUG, s.ALLOWED_HOSTS, s.CELERY_TASK_ALWAYS_EAGER)"],
        base=clean,
        env=env,
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
        ({"OPUS_DEVELOPMENT_KEYS": "1"}, "False []"),
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
    result = load_settings(CELERY_BROKER_URL="", OPUS_DEVELOPMENT_KEYS="1")
    assert result.stdout.strip().endswith("True")
    result = load_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/0", OPUS_DEVELOPMENT_KEYS="1")
    assert result.stdout.strip().endswith("False")


@pytest.mark.parametrize(("max_age", "expected"), [(None, "60 True"), ("0", "0 True")])
def test_database_connections_are_kept_a_minute_and_checked_before_reuse(max_age, expected):
    result = run_python(
        [
            "-c",
            "from config import settings as s; d = s.DATABASES['default']; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])",
        ],
        base=machine_environment(without={"DATABASE_CONN_MAX_AGE"}),
        env={} if max_age is None else {"DATABASE_CONN_MAX_AGE": max_age},
    )
    assert result.stdout.strip() == expected, result.stderr


@pytest.mark.parametrize(
    ("url", "cost", "expected"),
    [
        ("postgres://app@db/opus", None, "-c random_page_cost=1.1"),
        ("postgres://app@db/opus", "2", "-c random_page_cost=2.0"),
        ("postgres://app@db/opus", "", None),  # empty: the server's own setting
        # What the address asks for itself is kept, the cost added after it.
        (
            "postgres://app@db/opus?options=-c%20statement_timeout%3D5000",
            None,
            "-c statement_timeout=5000 -c random_page_cost=1.1",
        ),
        ("sqlite:///x.sqlite3", None, None),  # SQLite has no planner costs to set
    ],
)
def test_postgresql_connections_price_a_random_read_for_memory_and_ssd(url, cost, expected):
    result = run_python(
        ["-c", "from config import settings as s; print(s.DATABASES['default'].get('OPTIONS', {}).get('options'))"],
        base=machine_environment(without={"DATABASE_URL", "DATABASE_RANDOM_PAGE_COST"}),
        env={"DATABASE_URL": url} | ({} if cost is None else {"DATABASE_RANDOM_PAGE_COST": cost}),
    )
    assert result.stdout.strip() == str(expected), result.stderr


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="planner costs are PostgreSQL's")
def test_the_suites_postgresql_connection_has_the_random_read_price():
    with connection.cursor() as cursor:
        cursor.execute("SHOW random_page_cost")
        assert cursor.fetchone()[0] == "1.1"
