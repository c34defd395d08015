"""A browser's session plays no part in the API: a stale one logs no program out, and API calls keep none alive."""

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.utils import timezone

from accounts.sessions import LAST_SEEN_AT, LOGGED_IN_AT, machine_paths

from .conftest import make_token

ORDERS = "/api/v1/orders/"


@pytest.fixture
def browser_with_token(cast):
    """A browser where orderer_a is logged in, that also sends orderer_a's API token."""
    client = Client(headers={"Authorization": f"Bearer {make_token(cast.orderer_a)}"})
    client.force_login(cast.orderer_a)
    return client


def set_clocks(client, *, idle_for: float, logged_in_for: float | None = None) -> float:
    now = timezone.now().timestamp()
    session = client.session
    session[LAST_SEEN_AT] = now - idle_for
    session[LOGGED_IN_AT] = now - (logged_in_for if logged_in_for is not None else idle_for)
    session.save()
    return session[LAST_SEEN_AT]


def test_the_paths_left_alone_come_from_the_urlconf():
    assert machine_paths() == ("/api/", "/.well-known/")


def test_a_stale_session_does_not_log_out_an_api_call_with_a_valid_token(browser_with_token, settings):
    set_clocks(browser_with_token, idle_for=settings.SESSION_IDLE_TIMEOUT + 60)
    response = browser_with_token.get(ORDERS)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert browser_with_token.session.get(SESSION_KEY)  # the browser's session is untouched, too


def test_a_session_past_its_absolute_lifetime_does_not_refuse_the_api_either(browser_with_token, settings):
    set_clocks(browser_with_token, idle_for=0, logged_in_for=settings.SESSION_ABSOLUTE_LIFETIME + 1)
    assert browser_with_token.get(ORDERS).status_code == 200


def test_the_well_known_keys_are_served_whatever_the_session(browser_with_token, settings):
    set_clocks(browser_with_token, idle_for=settings.SESSION_IDLE_TIMEOUT + 60)
    assert browser_with_token.get("/.well-known/opus-adgang-register-keys.json").status_code == 200


def test_api_calls_do_not_keep_the_browsers_session_alive(browser_with_token, settings):
    seen = set_clocks(browser_with_token, idle_for=settings.SESSION_IDLE_TIMEOUT - 60)
    for _ in range(3):
        assert browser_with_token.get(ORDERS).status_code == 200
    assert browser_with_token.session[LAST_SEEN_AT] == seen


def test_the_same_stale_session_still_logs_out_on_a_page(browser_with_token, settings):
    set_clocks(browser_with_token, idle_for=settings.SESSION_IDLE_TIMEOUT + 60)
    response = browser_with_token.get("/orders/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert not browser_with_token.session.get(SESSION_KEY)


def test_a_page_still_keeps_the_session_alive(browser_with_token, settings):
    seen = set_clocks(browser_with_token, idle_for=60)
    assert browser_with_token.get("/profile/").status_code == 200
    assert browser_with_token.session[LAST_SEEN_AT] > seen
