"""Passwords remain for the demo and KMD's named break-glass accounts; production turns them off for the rest."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse

from tests.conftest import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-test-password"


def log_in(client, username: str):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def test_with_passwords_for_break_glass_only_an_ordinary_user_is_refused_and_a_named_account_logs_in(
    client, cast, settings
):
    settings.PASSWORD_LOGIN = "break-glass"
    assert log_in(client, "orderer_a").status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in client.session
    make_user("noedadgang", may_use_password=True, is_staff=True)
    assert log_in(client, "noedadgang").status_code == 302


def test_with_passwords_for_everyone_the_demo_users_log_in(client, cast, settings):
    settings.PASSWORD_LOGIN = "all"
    assert log_in(client, "orderer_a").status_code == 302


def test_a_session_from_an_identity_provider_survives_break_glass_only(client, cast, settings):
    settings.PASSWORD_LOGIN = "break-glass"
    client.force_login(cast.orderer_a, backend="accounts.backends.IdentityProviderBackend")
    assert client.get(reverse("home")).status_code == 200
    assert client.session["_auth_user_id"] == str(cast.orderer_a.pk)


def test_the_identity_provider_backend_takes_no_password(cast):
    from accounts.backends import IdentityProviderBackend

    assert IdentityProviderBackend().authenticate(None, username="orderer_a", password=PASSWORD) is None


@pytest.mark.parametrize(("debug", "expected"), [("1", "all"), ("", "break-glass")])
def test_password_login_defaults_to_everyone_in_the_demo_and_break_glass_otherwise(debug, expected):
    clean = {k: v for k, v in os.environ.items() if k not in {"PASSWORD_LOGIN", "DJANGO_DEBUG", "ALLOWED_HOSTS"}}
    out = subprocess.run(
        [sys.executable, "-c", "from config import settings as s; print(s.PASSWORD_LOGIN)"],
        env={**clean, "DJANGO_DEBUG": debug, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.strip().splitlines()[-1] == expected
