"""A session ends after SESSION_IDLE_TIMEOUT without a request and SESSION_ABSOLUTE_LIFETIME after login."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

HOME = "/"


@pytest.fixture
def clock(monkeypatch):
    """Django's clock, frozen; `advance(seconds)` moves it. Sessions, their expiry and axes all read it."""

    class Clock:
        now = timezone.now()

        def advance(self, seconds: float) -> None:
            self.now += timedelta(seconds=seconds)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def still_logged_in(client) -> bool:
    response = client.get(HOME)
    return response.status_code == 200 and response.wsgi_request.user.is_authenticated


def test_the_defaults_are_thirty_minutes_idle_and_ten_hours_in_all(settings):
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    assert settings.SESSION_ABSOLUTE_LIFETIME == 10 * 3600
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_ABSOLUTE_LIFETIME


def test_a_request_a_second_before_the_idle_limit_keeps_the_session(cast, client, clock, settings):
    client.force_login(cast.orderer_a)
    for _ in range(3):  # each request starts the idle time again
        clock.advance(settings.SESSION_IDLE_TIMEOUT - 1)
        assert still_logged_in(client)


def test_at_the_idle_limit_the_user_is_sent_to_log_in_again_and_told_why(cast, client, clock, settings):
    client.force_login(cast.orderer_a)
    assert still_logged_in(client)
    clock.advance(settings.SESSION_IDLE_TIMEOUT)
    response = client.get(reverse("ordering:order_list"))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={reverse('ordering:order_list')}"
    page = client.get(response.url).content.decode()
    assert "Du er blevet logget ud, fordi Opus Adgang ikke har været brugt i 30 minutter. Log ind igen." in page
    assert not still_logged_in(client)


def test_the_absolute_lifetime_ends_even_a_busy_session(cast, client, clock, settings):
    settings.SESSION_ABSOLUTE_LIFETIME = 2 * 3600
    client.force_login(cast.orderer_a)
    for _ in range(4):
        clock.advance(1799)
        assert still_logged_in(client)
    clock.advance(3)  # 7199 s after login
    assert still_logged_in(client)
    clock.advance(1)  # 7200 s: the limit
    response = client.get(HOME)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    page = client.get(response.url).content.decode()
    assert "Du er blevet logget ud, fordi du har været logget ind i 2 timer. Log ind igen." in page


def test_logging_in_again_starts_both_clocks_again(cast, client, clock, settings):
    settings.SESSION_ABSOLUTE_LIFETIME = 3600
    client.force_login(cast.orderer_a)
    clock.advance(1799)
    assert still_logged_in(client)
    clock.advance(1799)
    client.force_login(cast.orderer_a)
    clock.advance(1799)
    assert still_logged_in(client)  # 5397 s after the first login, 1799 s after the second
    clock.advance(1799)
    assert still_logged_in(client)  # 3598 s after the second
    clock.advance(2)
    assert not still_logged_in(client)  # 3600 s after the second


def test_an_expired_htmx_request_sends_the_whole_page_to_the_login(cast, client, clock, settings):
    client.force_login(cast.orderer_a)
    clock.advance(settings.SESSION_IDLE_TIMEOUT)
    response = client.get(reverse("ordering:order_form_preview"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_after_expiry_an_htmx_fragment_sends_the_browser_to_log_in_and_back_to_the_page_not_the_fragment(
    cast, client, clock, settings
):
    client.force_login(cast.orderer_a)
    clock.advance(settings.SESSION_IDLE_TIMEOUT)
    preview = reverse("ordering:order_form_preview") + "?external_system=1&requisition=PO-77"
    response = client.get(
        preview, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/orders/new/?from=catalogue"
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login") + "?next=/orders/new/%3Ffrom%3Dcatalogue"
    assert "preview" not in response["HX-Redirect"] and "PO-77" not in response["HX-Redirect"]


def test_a_fragment_asked_for_without_a_session_at_all_is_answered_the_same_way(client):
    response = client.get(
        reverse("ordering:order_form_preview"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/orders/new/",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("login") + "?next=/orders/new/"


def test_another_sites_page_is_never_the_next_page(client):
    response = client.get(
        reverse("ordering:order_form_preview"), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="https://evil.example/x/"
    )
    assert response["HX-Redirect"] == reverse("login") + "?next=/"


def test_extending_the_session_starts_the_idle_time_again(cast, client, clock, settings):
    client.force_login(cast.orderer_a)
    clock.advance(settings.SESSION_IDLE_TIMEOUT - 60)
    assert client.post(reverse("accounts:session_extend")).status_code == 204
    clock.advance(settings.SESSION_IDLE_TIMEOUT - 1)
    assert still_logged_in(client)


def test_extending_an_expired_session_does_not_bring_it_back(cast, client, clock, settings):
    client.force_login(cast.orderer_a)
    clock.advance(settings.SESSION_IDLE_TIMEOUT)
    assert client.post(reverse("accounts:session_extend")).status_code == 302
    assert not still_logged_in(client)


def test_the_page_tells_the_browser_when_to_warn_before_the_idle_logout(cast, client, clock, settings):
    client.force_login(cast.orderer_a)
    body = client.get(HOME).content.decode()
    assert f'data-session-idle="{settings.SESSION_IDLE_TIMEOUT}"' in body
    assert 'id="session-expiring"' in body and "Forlæng" in body
    assert 'data-modal-close aria-label="Luk dialogen"><svg' in body  # DKFDS's close icon, named
    client.logout()
    assert "data-session-idle" not in client.get(reverse("login")).content.decode()


@pytest.mark.parametrize("current", ["http://testserver//evil.example/x", "http://testserver/\\evil.example/x"])
def test_a_path_that_a_browser_reads_as_another_host_is_never_the_next_page(client, current):
    response = client.get(reverse("ordering:order_form_preview"), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=current)
    assert response["HX-Redirect"] == reverse("login") + "?next=/"


def session_writes(client, path=HOME):
    """The page's answer, and how many times it wrote the session row (an UPDATE per request was issue 23's)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return response, sum('UPDATE "django_session"' in q["sql"] for q in queries.captured_queries)


def test_the_session_is_written_at_most_once_a_minute(cast, client, clock, settings):
    from accounts.sessions import TOUCH_EVERY_SECONDS

    assert TOUCH_EVERY_SECONDS == 60
    client.force_login(cast.orderer_a)
    clock.advance(59)
    response, writes = session_writes(client)
    assert writes == 0
    # Counted from the stamp the login wrote: 59 s are gone, the browser is told what is left.
    left = settings.SESSION_IDLE_TIMEOUT - 59
    assert response["Session-Idle-Left"] == str(left) and f'data-session-idle="{left}"' in response.content.decode()
    clock.advance(1)  # a minute after the stamp: this request stamps again
    response, writes = session_writes(client)
    assert writes == 1 and response["Session-Idle-Left"] == str(settings.SESSION_IDLE_TIMEOUT)


def test_the_idle_time_counts_from_the_stamp_and_forlaeng_always_stamps(cast, client, clock, settings):
    client.force_login(cast.orderer_a)
    clock.advance(59)
    assert still_logged_in(client)  # not stamped: 59 s after the login's stamp
    clock.advance(settings.SESSION_IDLE_TIMEOUT - 59 - 1)
    assert still_logged_in(client)  # a second before the limit counted from the stamp, and stamped now
    clock.advance(30)
    extend = client.post(reverse("accounts:session_extend"))
    assert extend.status_code == 204 and extend["Session-Idle-Left"] == str(settings.SESSION_IDLE_TIMEOUT)
    clock.advance(settings.SESSION_IDLE_TIMEOUT - 1)
    assert still_logged_in(client)
