"""Production defaults are secure: the environment README.md documents passes `check --deploy` cleanly."""

import base64
import os
import re
import secrets
import subprocess
from pathlib import Path

import pytest

from tests.processes import run_python

ROOT = Path(__file__).resolve().parent.parent.parent


def production_environment() -> dict[str, str]:
    """What README.md's "Run it in production" asks for: every variable marked Required, and the usual rest."""
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "adgang.example.dk",
        "CSRF_TRUSTED_ORIGINS": "https://adgang.example.dk",
        "SITE_URL": "https://adgang.example.dk",
        "DATABASE_URL": "postgres://opus:secret@db.example.invalid:5432/opus_adgang",
        "CELERY_BROKER_URL": "redis://redis.example.invalid:6379/0",
        "SECURE_PROXY_SSL": "1",
        "AUDIT_HMAC_KEY": secrets.token_urlsafe(48),
        "AUDIT_CHECKPOINT_KEY": base64.b64encode(os.urandom(32)).decode(),
        "ACCESS_REGISTER_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
        # The logins (docs/login.md): a MitID broker and KMD's Entra ID.
        "MITID_OIDC_SERVER_URL": "https://broker.example.invalid/op",
        "MITID_OIDC_CLIENT_ID": "opus-adgang",
        "MITID_OIDC_CLIENT_SECRET": secrets.token_urlsafe(32),
        "MITID_CLAIM_PRESET": "signaturgruppen",
        "ENTRA_TENANT_ID": "6a1f4e2c-0000-4000-8000-00000000cafe",
        "ENTRA_CLIENT_ID": "0b5b2f6e-1111-4222-8333-944445555666",
        "ENTRA_CLIENT_SECRET": secrets.token_urlsafe(32),
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    # Only the variables given: nothing from the machine running the tests (DATABASE_URL, DJANGO_DEBUG…) leaks in.
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(ROOT)),
        "LANG": "C.UTF-8",
    }
    return run_python(args, base=base, env=env, timeout=120)


def test_check_deploy_with_the_documented_production_environment_has_no_warning():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    required = set(re.findall(r"^\| `([A-Z0-9_]+)` \|[^\n]*\*\*Required\*\*", readme, re.MULTILINE))
    assert "SECRET_KEY" in required
    assert required <= production_environment().keys(), "README.md requires a variable this test does not set"
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_environment())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def setting_values(**env) -> str:
    program = "from config import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)"
    result = run(["-c", program], env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        # DJANGO_DEBUG unset, nothing said but the key every process needs: HTTPS only, HSTS for a year
        ({"AUDIT_HMAC_KEY": "k" * 48}, "True 31536000 True"),
        (production_environment(), "True 31536000 True"),
        ({"AUDIT_HMAC_KEY": "k" * 48, "SECURE_SSL_REDIRECT": "0", "SECURE_HSTS_SECONDS": "0"}, "False 0 True"),
        ({"DJANGO_DEBUG": "1"}, "False 0 True"),  # a developer's machine speaks plain HTTP
    ],
)
def test_https_redirect_and_hsts_are_on_unless_switched_off(env, expected):
    assert setting_values(**env) == expected


@pytest.mark.parametrize("key", [None, base64.b64encode(os.urandom(31)).decode()])
def test_check_deploy_refuses_production_without_a_whole_register_signing_key(key):
    environment = production_environment()
    if key is None:
        del environment["ACCESS_REGISTER_SIGNING_KEY"]
    else:
        environment["ACCESS_REGISTER_SIGNING_KEY"] = key
    result = run(["manage.py", "check", "--deploy"], environment)
    assert result.returncode != 0
    assert "registers.E001" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("changes", "warning"),
    [
        ({"PASSWORD_LOGIN": "all"}, "accounts.W001"),
        ({"MITID_OIDC_CLIENT_ID": ""}, "accounts.W002"),
        ({"MITID_MIN_ASSURANCE": "low"}, "accounts.W003"),
    ],
)
def test_check_deploy_warns_about_each_weakened_login(changes, warning):
    result = run(["manage.py", "check", "--deploy"], {**production_environment(), **changes})
    assert warning in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"PASSWORD_LOGIN": "everyone"}, "accounts.E001"),
        ({"MITID_MIN_ASSURANCE": "medium"}, "accounts.E002"),
        ({"MITID_CLAIM_PRESET": "unknown-broker"}, "accounts.E003"),
    ],
)
def test_a_login_setting_that_cannot_work_is_an_error(changes, error):
    result = run(["manage.py", "check"], {**production_environment(), **changes})
    assert result.returncode != 0 and error in result.stdout + result.stderr
