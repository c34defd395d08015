"""KMD's staff log in with Entra ID: the app roles say what they do here; which customers stays in the app."""

import pytest
from django.urls import reverse

from accounts.models import LoginIdentity
from accounts.roles import CATALOGUE_ADMIN_GROUP, is_catalogue_admin, is_support
from tests.login.conftest import ENTRA, kmd_person, log_in, logged_in_user

pytestmark = pytest.mark.django_db

OID = "0b5b2f6e-1111-4222-8333-944445555666"


def test_an_account_manager_logs_in_as_staff_and_serves_the_customers_chosen_in_the_app(client, provider, settings):
    response = log_in(client, kmd_person(provider, roles=[settings.ENTRA_ROLE_ACCOUNT_MANAGER]), ENTRA)
    assert response.status_code == 302 and response.url == "/"
    user = logged_in_user(client)
    assert user.is_staff and not user.is_support and not is_catalogue_admin(user)
    assert not user.managed_customers.exists()  # KMD chooses them on the customer, in the app
    identity = LoginIdentity.objects.get(user=user)
    assert (identity.scheme, identity.person) == ("entra_id", OID)
    assert client.session["login_proof"]["scheme"] == "entra_id"


def test_the_support_role_makes_support_and_taking_it_away_in_entra_id_ends_it_at_the_next_login(
    client, provider, settings, security_log
):
    log_in(client, kmd_person(provider, roles=[settings.ENTRA_ROLE_SUPPORT]), ENTRA)
    user = logged_in_user(client)
    assert is_support(user)
    client.logout()
    log_in(client, kmd_person(provider, roles=[settings.ENTRA_ROLE_ACCOUNT_MANAGER]), ENTRA)
    user.refresh_from_db()
    assert logged_in_user(client) == user and not user.is_support
    changes = security_log("staff_roles_changed")
    assert [line["support"] for line in changes] == [[False, True], [True, False]]


def test_the_catalogue_admin_role_opens_the_admin(client, provider, settings):
    log_in(client, kmd_person(provider, roles=[settings.ENTRA_ROLE_CATALOGUE_ADMIN]), ENTRA)
    user = logged_in_user(client)
    assert user.groups.filter(name=CATALOGUE_ADMIN_GROUP).exists()
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_kmd_employee_with_no_role_here_is_refused_with_a_page_saying_what_to_ask_for(client, provider, security_log):
    response = log_in(client, kmd_person(provider, roles=["Something.Else"]), ENTRA)
    assert response.status_code == 403
    assert "ingen rolle i Opus Adgang" in response.content.decode()
    assert logged_in_user(client) is None and not LoginIdentity.objects.exists()
    assert [line["reason"] for line in security_log("login_refused")] == ["no_kmd_role"]


def test_an_account_of_another_tenant_is_refused(client, provider, settings, security_log):
    other = "11111111-2222-4333-8444-555555555555"
    response = log_in(client, kmd_person(provider, roles=[settings.ENTRA_ROLE_SUPPORT], tid=other), ENTRA)
    assert response.status_code == 403 and logged_in_user(client) is None
    assert [line["reason"] for line in security_log("login_refused")] == ["other_tenant"]


def test_a_deactivated_kmd_user_is_refused(client, provider, settings, security_log):
    log_in(client, kmd_person(provider, roles=[settings.ENTRA_ROLE_SUPPORT]), ENTRA)
    user = logged_in_user(client)
    client.logout()
    user.is_active = False
    user.save()
    response = log_in(client, kmd_person(provider, roles=[settings.ENTRA_ROLE_SUPPORT]), ENTRA)
    assert response.status_code == 403 and logged_in_user(client) is None
    assert [line["reason"] for line in security_log("login_refused")] == ["inactive"]
