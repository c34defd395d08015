"""Only catalogue admins get into /admin/: KMD's account managers and support are staff, but not admins."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts.roles import CATALOGUE_ADMIN_GROUP, is_catalogue_admin
from tests.conftest import make_user

PASSWORD = "a-long-test-password"


def admin_login(client, user):
    return client.post(
        reverse("admin:login"), {"username": user.username, "password": PASSWORD, "next": reverse("admin:index")}
    )


@pytest.fixture
def superuser(db):
    return make_user("catalogue_admin", is_staff=True, is_superuser=True)


@pytest.fixture
def group_member(db):
    user = make_user("price_keeper", is_staff=True)
    user.groups.add(Group.objects.create(name=CATALOGUE_ADMIN_GROUP))
    return user


@pytest.mark.parametrize("person", ["support", "am_a"])
def test_support_and_account_managers_cannot_log_in_to_the_admin(cast, client, person, security_log):
    user = getattr(cast, person)
    assert user.is_staff
    response = admin_login(client, user)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Kun katalogadministratorer kan logge ind i administrationen." in response.content.decode()
    [refusal] = security_log("admin_login_refused")
    assert (refusal["username"], refusal["path"]) == (user.username, reverse("admin:login"))


@pytest.mark.parametrize("person", ["support", "am_a"])
def test_logged_in_elsewhere_they_still_do_not_get_the_admin(cast, client, person):
    client.force_login(getattr(cast, person))
    response = client.get(reverse("admin:ordering_customer_changelist"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_of_kmds_staff_only_catalogue_admins_log_in_to_the_admin(cast, client, superuser, group_member):
    for user, allowed in [(superuser, True), (group_member, True), (cast.support, False), (cast.am_a, False)]:
        client.logout()
        response = admin_login(client, user)
        assert (response.status_code == 302) is allowed, user
        assert (client.get(reverse("admin:index")).status_code == 200) is allowed, user


def test_who_is_a_catalogue_admin(cast, superuser, group_member):
    assert is_catalogue_admin(superuser) and is_catalogue_admin(group_member)
    assert not any(is_catalogue_admin(u) for u in (cast.support, cast.am_a, cast.orderer_a, cast.outsider))
    # The group alone is not enough: it must be KMD staff, and active.
    customer_in_group = cast.orderer_a
    customer_in_group.groups.add(Group.objects.get(name=CATALOGUE_ADMIN_GROUP))
    assert not is_catalogue_admin(customer_in_group)
    superuser.is_active = False
    assert not is_catalogue_admin(superuser)
