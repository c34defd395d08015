"""Guessing passwords: after LOGIN_FAILURE_LIMIT failures for one username from one address, that username stops
there for a while; after LOGIN_ADDRESS_FAILURE_LIMIT failures from one address, whatever the usernames, the address
stops. One person's typos never lock out the colleagues behind the same address."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from tests.conftest import make_user

PASSWORD = "a-long-test-password"
HOME, ELSEWHERE = "203.0.113.10", "198.51.100.20"


@pytest.fixture
def limit(settings) -> int:
    return settings.AXES_FAILURE_LIMIT


def log_in(client, username: str, password: str = PASSWORD, ip: str = HOME):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail(client, times: int, username: str = "orderer_a", ip: str = HOME) -> None:
    for _ in range(times):
        log_in(client, username, "wrong password", ip)


def logged_in(response) -> bool:
    return response.status_code == 302 and response.url == reverse("home")


def test_the_limit_is_ten_failures(limit):
    assert limit == 10


def test_one_failure_short_of_the_limit_the_right_password_logs_in_and_the_next_failure_locks(cast, client, limit):
    fail(client, limit - 1)
    assert logged_in(log_in(client, "orderer_a"))
    client.logout()
    assert log_in(client, "orderer_a", "wrong password").status_code == 429  # failure number `limit`
    assert log_in(client, "orderer_a").status_code == 429
    assert "_auth_user_id" not in client.session


def test_at_the_limit_the_right_password_is_refused_from_that_address_and_not_from_another(cast, client, limit):
    fail(client, limit - 1)
    response = log_in(client, "orderer_a", "wrong password")
    assert response.status_code == 429  # the failure that reaches the limit already gets the lockout page
    assert log_in(client, "orderer_a").status_code == 429
    assert "_auth_user_id" not in client.session
    assert logged_in(log_in(client, "orderer_a", ip=ELSEWHERE))


def test_a_colleague_behind_the_same_address_logs_in_while_one_person_is_locked_out(cast, client, limit):
    fail(client, limit)
    assert log_in(client, "orderer_a").status_code == 429
    assert logged_in(log_in(client, "signatory_a", ip=HOME))


@pytest.fixture
def address_limit(settings) -> int:
    return settings.LOGIN_ADDRESS_FAILURE_LIMIT


def test_the_address_limit_is_fifty_failures(address_limit):
    assert address_limit == 50


def spray(client, failures: int, limit: int) -> None:
    """`failures` wrong passwords from HOME, spread over usernames so that none reaches the per-username limit."""
    for n in range(failures):
        log_in(client, f"guess{n // (limit - 1)}", "wrong password")


def test_one_address_trying_many_usernames_is_refused_at_the_address_limit_and_not_before(
    cast, client, limit, address_limit
):
    spray(client, address_limit - 1, limit)
    assert logged_in(log_in(client, "orderer_a"))  # one short of the limit: a colleague still logs in
    client.logout()
    spray(client, 1, limit)  # failure number `address_limit`
    assert log_in(client, "signatory_a").status_code == 429
    assert log_in(client, "orderer_a").status_code == 429
    assert logged_in(log_in(client, "orderer_a", ip=ELSEWHERE))


def test_the_address_lockout_ends_by_itself_after_the_cool_off(cast, client, limit, address_limit, settings):
    spray(client, address_limit, limit)
    assert log_in(client, "orderer_a").status_code == 429
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= settings.AXES_COOLOFF_TIME
        attempt.save(update_fields=["attempt_time"])
    assert logged_in(log_in(client, "orderer_a"))


def test_the_lockout_page_says_in_danish_what_happened_and_when_to_try_again(cast, client, limit):
    fail(client, limit)
    body = log_in(client, "orderer_a").content.decode()
    assert "Log ind er midlertidigt spærret" in body
    assert "Prøv igen om 15 minutter" in body
    client.cookies["django_language"] = "en"
    assert "Try again in 15 minutes" in log_in(client, "orderer_a").content.decode()


def test_the_lockout_ends_by_itself_after_the_cool_off(cast, client, limit, settings):
    fail(client, limit)
    assert log_in(client, "orderer_a").status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME)
    assert logged_in(log_in(client, "orderer_a"))


def test_a_catalogue_admin_lifts_the_lockout_in_the_admin(cast, client, limit):
    fail(client, limit)
    attempts = list(AccessAttempt.objects.values_list("pk", flat=True))
    assert attempts
    admin = make_user("catalogue_admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    changelist = reverse("admin:axes_accessattempt_changelist")
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "delete_selected", "_selected_action": attempts, "post": "yes"})
    assert not AccessAttempt.objects.exists()
    client.logout()
    assert logged_in(log_in(client, "orderer_a"))


def test_failed_logins_and_the_lockout_are_json_lines_in_the_security_log(cast, client, limit, security_log):
    fail(client, limit)
    failures = security_log("login_failed")
    assert len(failures) == limit
    assert failures[0]["username"] == "orderer_a"
    assert failures[0]["ip"] == HOME
    assert failures[0]["path"] == reverse("login")
    assert failures[0]["user"] is None  # nobody is logged in; the name tried is `username`
    assert "wrong password" not in str(failures)
    [lockout] = security_log("locked_out")
    assert (lockout["username"], lockout["ip"], lockout["path"]) == ("orderer_a", HOME, reverse("login"))
    assert lockout["time"].endswith("+00:00")
