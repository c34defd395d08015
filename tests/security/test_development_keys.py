"""No published key outside development (#21): the development keys in config/settings.py are used only with
DJANGO_DEBUG=1 or the test suite's OPUS_DEVELOPMENT_KEYS=1; anywhere else every process stops at start with a
sentence naming the key it lacks, and nothing seals, signs or serves with a published key."""

import base64
import os
import subprocess

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from audit.keys import configured_key
from audit.models import audit_hmac_key
from audit.verification import audit_checkpoint_write
from config import settings as project_settings
from config.celery import worker_has_its_keys
from registers import jws
from tests.processes import ROOT, run_python

PUBLISHED = dict(project_settings._DEVELOPMENT_KEY_VALUES)


def a_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def production_process(args: list[str], **env) -> subprocess.CompletedProcess:
    """A fresh process as a worker, beat or cron machine starts it: no debug, no hosts, no development switch."""
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "LANG": "C.UTF-8",
    }
    return run_python(args, base=base, env=env)


def test_a_process_outside_development_without_the_audit_key_stops_at_start_naming_it():
    """The finding: with neither DJANGO_DEBUG nor ALLOWED_HOSTS, the published audit key was used silently."""
    result = production_process(["manage.py", "verify_audit_log"])
    assert result.returncode != 0
    assert "AUDIT_HMAC_KEY is not set" in result.stderr


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_a_published_development_key_set_outside_development_stops_every_process(name):
    env = {"AUDIT_HMAC_KEY": "k" * 48, name: PUBLISHED[name]}
    result = production_process(["-c", "from config import settings"], **env)
    assert result.returncode != 0
    assert f"{name} is a development key published in config/settings.py" in result.stderr


def test_the_checkpoint_command_without_its_key_stops_naming_it_and_writes_nothing(tmp_path):
    """The finding: `audit_checkpoint` wrote a checkpoint signed with the published key."""
    result = production_process(["manage.py", "audit_checkpoint", "--dir", str(tmp_path)], AUDIT_HMAC_KEY="k" * 48)
    assert result.returncode != 0
    assert "AUDIT_CHECKPOINT_KEY is not set" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_register_export_without_its_key_stops_naming_it(tmp_path):
    """The finding: `export_access_register` signed with the published register key."""
    out = tmp_path / "register.json"
    args = ["manage.py", "export_access_register", "--environment", "production", "--output", str(out)]
    result = production_process(args, AUDIT_HMAC_KEY="k" * 48)
    assert result.returncode != 0
    assert "ACCESS_REGISTER_SIGNING_KEY is not set" in result.stderr
    assert not out.exists()


def test_the_web_process_without_the_register_key_stops_at_start_naming_it():
    env = {"AUDIT_HMAC_KEY": "k" * 48, "SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "adgang.example.dk"}
    result = production_process(["-c", "import config.wsgi"], **env)
    assert result.returncode != 0
    assert "ACCESS_REGISTER_SIGNING_KEY is not set" in result.stderr
    result = production_process(["-c", "import config.wsgi"], **env, ACCESS_REGISTER_SIGNING_KEY=a_key())
    assert result.returncode == 0, result.stderr


@override_settings(DEVELOPMENT_KEYS=False, AUDIT_HMAC_KEY="k" * 48, AUDIT_CHECKPOINT_KEY="")
def test_a_worker_without_the_checkpoint_key_stops_at_start_naming_it():
    with pytest.raises(ImproperlyConfigured, match="AUDIT_CHECKPOINT_KEY is not set"):
        worker_has_its_keys()
    with override_settings(AUDIT_CHECKPOINT_KEY=a_key()):
        worker_has_its_keys()  # nothing missing: the worker starts


@pytest.mark.parametrize(
    ("name", "use"),
    [
        ("AUDIT_HMAC_KEY", audit_hmac_key),
        ("AUDIT_CHECKPOINT_KEY", audit_checkpoint_write),
        ("ACCESS_REGISTER_SIGNING_KEY", jws.signing_key),
    ],
)
def test_nothing_seals_or_signs_with_a_published_key_outside_development(name, use, tmp_path, settings):
    settings.DEVELOPMENT_KEYS = False
    settings.AUDIT_CHECKPOINT_DIR = tmp_path
    setattr(settings, name, PUBLISHED[name])
    with pytest.raises(ImproperlyConfigured, match=f"{name} is the development key published"):
        use()
    assert list(tmp_path.iterdir()) == []


def test_in_development_the_published_keys_are_what_the_suite_runs_with(settings):
    assert settings.DEVELOPMENT_KEYS
    assert configured_key("AUDIT_CHECKPOINT_KEY") == PUBLISHED["AUDIT_CHECKPOINT_KEY"]
