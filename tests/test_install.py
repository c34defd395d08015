"""Production installs what runs the app and nothing that only tests it."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MAKE = shutil.which("make")


@pytest.mark.skipif(MAKE is None, reason="no make")
def test_install_prod_installs_runtime_packages_only():
    result = subprocess.run(  # noqa: S603 (make, dry run, on the project's own Makefile)
        [MAKE, "--dry-run", "--always-make", "install-prod"], cwd=ROOT, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "-r requirements.txt" in result.stdout
    assert "requirements-dev.txt" not in result.stdout
    assert "npm ci --omit=dev" in result.stdout


def test_the_pages_front_end_packages_are_runtime_dependencies_and_test_tools_are_not():
    package = json.loads((ROOT / "package.json").read_text())
    assert {"dkfds", "htmx.org"} <= package["dependencies"].keys()
    assert "axe-core" in package["devDependencies"] and "axe-core" not in package["dependencies"]


def dry_run(*args: str) -> subprocess.CompletedProcess:
    """`make --dry-run`, in an environment without PORT or SITE_URL of its own."""
    env = {name: value for name, value in os.environ.items() if name not in ("PORT", "SITE_URL", "MAKEFLAGS")}
    return subprocess.run(  # noqa: S603 (make, dry run, on the project's own Makefile)
        [MAKE, "--dry-run", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, env=env
    )


def manage_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "manage.py" in line]


@pytest.mark.skipif(MAKE is None, reason="no make")
def test_make_run_serves_on_8000_by_default_and_links_in_e_mails_point_there():
    result = dry_run("run")
    assert result.returncode == 0, result.stderr
    assert "manage.py runserver 127.0.0.1:8000" in result.stdout
    assert all("SITE_URL=http://127.0.0.1:8000 " in line for line in manage_lines(result.stdout))


@pytest.mark.skipif(MAKE is None, reason="no make")
def test_make_run_serves_on_the_port_given_and_links_in_e_mails_follow_it():
    result = dry_run("run", "PORT=8123")
    assert result.returncode == 0, result.stderr
    assert "manage.py runserver 127.0.0.1:8123" in result.stdout
    lines = manage_lines(result.stdout)
    assert len(lines) == 5  # migrate, seed_demo, the identity provider, run_schedule, runserver
    assert all("SITE_URL=http://127.0.0.1:8123 " in line for line in lines)


@pytest.mark.skipif(MAKE is None, reason="no make")
def test_a_site_url_of_ones_own_is_kept_whatever_the_port():
    result = dry_run("run", "PORT=8123", "SITE_URL=https://demo.example.test")
    assert result.returncode == 0, result.stderr
    assert all("SITE_URL=https://demo.example.test " in line for line in manage_lines(result.stdout))


@pytest.mark.skipif(MAKE is None, reason="no make")
@pytest.mark.parametrize("port", ["8001", "8002"])
def test_make_run_refuses_the_demo_identity_providers_ports(port):
    result = dry_run("run", f"PORT={port}")
    assert result.returncode != 0
    assert f"PORT={port} is the demo identity provider's (8001 and 8002): choose another" in result.stderr
    assert "runserver" not in result.stdout


@pytest.mark.skipif(MAKE is None, reason="no make")
def test_make_run_runs_the_schedule_beside_the_server_and_stops_it_with_the_server():
    result = dry_run("run")
    assert result.returncode == 0, result.stderr
    recipe = result.stdout
    assert "manage.py run_schedule & schedule=$!" in recipe
    assert "trap 'kill $provider $schedule 2>/dev/null' EXIT INT TERM" in recipe
    # Started before the server, which runs in the foreground: the trap stops both helpers when it ends.
    assert recipe.index("manage.py run_schedule") < recipe.index("manage.py runserver")


def test_pytest_run_by_its_own_script_finds_the_suites_development_key_switch():
    """`.venv/bin/pytest` (not only `python -m pytest`, which `make test` uses) loads tests/development_keys.py
    before Django's settings: pyproject's pythonpath puts the repository on the path for `-p`."""
    import sys

    script = Path(sys.executable).parent / "pytest"
    env = {k: v for k, v in os.environ.items() if k not in {"OPUS_DEVELOPMENT_KEYS", "DJANGO_DEBUG", "PYTHONPATH"}}
    result = subprocess.run(  # noqa: S603 (the project's own pytest, on its own tests)
        [str(script), "--collect-only", "-q", "tests/test_health.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tests collected" in result.stdout


FAKE_PYTHON = """#!/bin/sh
# Stands in for the virtualenv's python: notes how `make test` ran it, and exits as the test tells it to.
echo "suffix=${OPUS_TEST_DATABASE_SUFFIX:-none} args=$*" >> "$CALLS"
case "$*" in
  *"not processes"*) exit "$REST_EXIT" ;;
  *) sleep 0.2; echo "side run's own output"; exit "$PROCESSES_EXIT" ;;
esac
"""


def make_test(tmp_path: Path, *, rest: int, processes: int) -> tuple[subprocess.CompletedProcess, list[str]]:
    """`make test` with a stand-in python and its checks (lint) taken as done."""
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    # Not a sub-make of the `make test` that may be running this test (CI's): no "Entering directory" lines.
    env = {name: value for name, value in os.environ.items() if name not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    env |= {"CALLS": str(calls), "REST_EXIT": str(rest), "PROCESSES_EXIT": str(processes)}
    result = subprocess.run(  # noqa: S603 (make on the project's own Makefile, python replaced by a script)
        [MAKE, "--no-print-directory", "--old-file=lint", "test", f"PY={fake}", "PYTEST_ARGS=--durations=15"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    return result, sorted(calls.read_text().splitlines())


@pytest.mark.skipif(MAKE is None, reason="no make")
def test_make_test_runs_the_tests_that_start_processes_beside_the_rest_with_a_test_database_of_their_own(tmp_path):
    result, calls = make_test(tmp_path, rest=0, processes=0)
    assert result.returncode == 0, result.stdout + result.stderr
    assert calls == [
        "suffix=none args=-m pytest -m not processes --durations=15",
        "suffix=processes args=-m pytest -m processes -p no:cacheprovider --durations=15",
    ]
    # The side run's output is shown after the rest's, whole.
    assert result.stdout.rstrip().endswith("side run's own output")
    assert "(pytest -m processes), run beside the rest: exit 0" in result.stdout


@pytest.mark.skipif(MAKE is None, reason="no make")
@pytest.mark.parametrize(
    ("rest", "processes", "passes"),
    [(0, 5, True), (0, 1, False), (1, 0, False), (2, 5, False), (0, 4, False)],
)
def test_make_test_fails_when_either_run_fails_and_no_test_to_start_processes_is_no_failure(
    tmp_path, rest, processes, passes
):
    """Exit 5 is pytest's "no test selected": PYTEST_ARGS naming tests none of which starts processes."""
    result, _calls = make_test(tmp_path, rest=rest, processes=processes)
    assert (result.returncode == 0) is passes, result.stdout + result.stderr


def test_a_run_beside_another_gets_test_databases_of_its_own_and_sqlites_stays_in_memory():
    from tests.conftest import with_test_database_suffix

    databases = {
        "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "opus_adgang"},
        "named": {"ENGINE": "django.db.backends.postgresql", "NAME": "x", "TEST": {"NAME": "old"}},
        "sqlite": {"ENGINE": "django.db.backends.sqlite3", "NAME": "db.sqlite3"},
    }
    unchanged = json.loads(json.dumps(databases))
    with_test_database_suffix(databases, "")
    assert databases == unchanged
    with_test_database_suffix(databases, "processes")
    assert databases["default"]["TEST"]["NAME"] == "test_opus_adgang_processes"
    assert databases["named"]["TEST"]["NAME"] == "test_x_processes"
    assert "TEST" not in databases["sqlite"]
