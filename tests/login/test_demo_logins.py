# ruff: noqa: F811  (the seeded demo is a fixture imported from the page walk, and named in the tests)
"""The demo's logins (`make run`): each demo person logs in through MitID Erhverv or Entra ID as the demo user."""

import pytest
from django.core.management import CommandError, call_command

from config import demo_identities as identities
from config.management.commands.seed_demo import USERS
from tests.login.conftest import ENTRA, log_in, logged_in_user
from tests.test_every_page_in_both_languages import demo  # noqa: F401  (the fixture: seed_demo's data)

pytestmark = pytest.mark.django_db


def name_and_email(username):
    first, last, email, _title = USERS[username]
    return f"{first} {last}", email


@pytest.mark.parametrize(("username", "cvr"), identities.MITID_PEOPLE)
def test_each_demo_customer_person_logs_in_with_mitid_erhverv_as_the_demo_user(
    client,
    provider,
    settings,
    demo,
    username,
    cvr,
):
    settings.MITID_CLAIM_PRESET = "signaturgruppen"  # the demo provider speaks Signaturgruppen's claim names
    sub = provider.person(f"demo-{username}", **identities.mitid_claims(username, cvr, *name_and_email(username)))
    log_in(client, sub)
    assert logged_in_user(client).username == username


@pytest.mark.parametrize(("username", "roles"), identities.KMD_PEOPLE)
def test_each_demo_kmd_person_logs_in_with_entra_id_as_the_demo_user(
    client,
    provider,
    settings,
    demo,
    username,
    roles,
):
    settings.ENTRA_TENANT_ID = identities.DEMO_TENANT
    sub = provider.person(f"demo-{username}", **identities.entra_claims(username, roles, *name_and_email(username)))
    log_in(client, sub, ENTRA)
    user = logged_in_user(client)
    assert user.username == username
    assert user.is_support == (username == "support")


def test_the_demo_identity_provider_refuses_to_run_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("demo_identity_provider")
