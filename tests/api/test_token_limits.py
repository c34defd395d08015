"""Limits on tokens: how many live personal tokens one user may have, how many refused tokens an address may send
(to the API and the access register together), and a token's last day."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone, translation

from accounts.forms import ApiTokenForm
from accounts.models import ApiToken
from accounts.tokens import last_day_problem, token_create, token_revoke
from core.errors import Invalid

from .conftest import make_token

ORDERS = "/api/v1/orders/"
PROFILE = "/profile/"
IP = "192.0.2.44"


def make(user, name: str = "CI", *, days: int = 30) -> ApiToken:
    token, _secret = token_create(
        user=user, name=name, scopes=["read"], last_day=timezone.localdate() + timedelta(days=days), actor=user
    )
    return token


def test_the_default_is_ten_live_tokens_per_user(settings):
    assert settings.API_TOKENS_PER_USER == 10


def test_a_user_may_have_exactly_n_live_tokens_and_is_refused_the_next(cast, settings):
    settings.API_TOKENS_PER_USER = 3
    for n in range(3):
        make(cast.orderer_a, f"token {n}")
    with translation.override("en"), pytest.raises(Invalid) as refused:
        make(cast.orderer_a, "one too many")
    assert refused.value.message.startswith("You already have 3 active API tokens, the most one user may have.")
    assert ApiToken.objects.filter(user=cast.orderer_a).count() == 3
    # Another user has their own allowance, and a gateway token belongs to no user's.
    make(cast.orderer_b)
    make_token(None, ("register",), kind=ApiToken.Kind.GATEWAY)


def test_revoked_and_expired_tokens_leave_room_for_new_ones(cast, settings, monkeypatch):
    settings.API_TOKENS_PER_USER = 2
    first = make(cast.orderer_a, "first")
    second = make(cast.orderer_a, "second", days=1)
    token_revoke(token=first, actor=cast.orderer_a)
    make(cast.orderer_a, "third")  # the revoked one no longer counts
    with pytest.raises(Invalid):
        make(cast.orderer_a, "fourth")
    monkeypatch.setattr(timezone, "now", lambda: second.expires_at)
    make(cast.orderer_a, "fourth")  # "second" has expired


def test_the_profile_says_why_the_token_one_too_many_is_not_made(cast, client, settings):
    settings.API_TOKENS_PER_USER = 1
    make(cast.orderer_a)
    client.force_login(cast.orderer_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = {"name": "Ny", "scopes": ["read"], "last_day": (timezone.localdate() + timedelta(days=5)).isoformat()}
    response = client.post("/profile/", data)
    assert response.status_code == 400
    assert "You already have 1 active API token, the most one user may have." in response.content.decode()
    assert ApiToken.objects.filter(user=cast.orderer_a).count() == 1


# --- Refused tokens, per address ----------------------------------------------------------------


def three_refused_then_429(settings, path: str):
    """With an allowance of three refused tokens a minute, a guesser at `path` is answered 401 three times, then
    429 as a problem document saying when to try again: that answer, for the test to look closer."""
    settings.API_INVALID_TOKEN_RATE = "3/min"
    guesser = Client(REMOTE_ADDR=IP, headers={"Authorization": "Bearer oa_guess", "Accept-Language": "en"})
    assert [guesser.get(path).status_code for _ in range(3)] == [401, 401, 401]
    refused = guesser.get(path)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "too_many_requests"
    return refused


def test_an_address_may_send_n_refused_tokens_and_is_answered_429_after(cast, settings, security_log):
    refused = three_refused_then_429(settings, ORDERS)
    assert refused.json()["detail"].startswith("Too many requests with an unknown, expired or revoked token")
    # Refused requests past the allowance write no more log lines: a flood cannot flood the log.
    assert len(security_log("api_token_invalid")) == 3
    # A valid token from the same address still works (programs may share an address), and another
    # address has its own allowance.
    assert (
        Client(REMOTE_ADDR=IP, headers={"Authorization": f"Bearer {make_token(cast.orderer_a)}"})
        .get(ORDERS)
        .status_code
        == 200
    )
    other = Client(REMOTE_ADDR="192.0.2.45", headers={"Authorization": "Bearer oa_guess"})
    assert other.get(ORDERS).status_code == 401


def test_requests_without_a_token_or_with_a_valid_one_are_not_counted_as_refused(cast, settings):
    settings.API_INVALID_TOKEN_RATE = "1/min"
    client = Client(REMOTE_ADDR=IP, headers={"Authorization": f"Bearer {make_token(cast.orderer_a)}"})
    for _ in range(3):
        assert client.get(ORDERS).status_code == 200
        assert Client(REMOTE_ADDR=IP).get(ORDERS).status_code == 401
    assert Client(REMOTE_ADDR=IP, headers={"Authorization": "Bearer oa_guess"}).get(ORDERS).status_code == 401


REGISTER = "/api/v1/access-register"


def test_an_address_may_send_n_refused_tokens_to_the_register_and_is_answered_429_after(db, settings, security_log):
    three_refused_then_429(settings, REGISTER)
    # The flood at the register writes no more lines than the allowance, as at the API.
    assert len(security_log("api_token_invalid")) == 3


def test_the_api_and_the_register_share_one_allowance_of_refused_tokens_per_address(db, settings):
    settings.API_INVALID_TOKEN_RATE = "3/min"
    guesser = Client(REMOTE_ADDR=IP, headers={"Authorization": "Bearer oa_guess"})
    assert [guesser.get(path).status_code for path in (ORDERS, REGISTER, ORDERS)] == [401, 401, 401]
    assert guesser.get(REGISTER).status_code == 429
    assert guesser.get(ORDERS).status_code == 429


# --- A token's last day ------------------------------------------------------------------------

COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def form_for(last_day: date) -> ApiTokenForm:
    return ApiTokenForm(data={"name": "CI", "scopes": ["read"], "last_day": last_day.isoformat()})


def made_through(last_day: date, user) -> ApiToken:
    token, _secret = token_create(user=user, name="CI", scopes=["read"], last_day=last_day, actor=user)
    return token


@pytest.mark.parametrize("days", [0, 365])
def test_a_token_may_work_through_today_and_through_the_365th_day_from_today(cast, days):
    last_day = timezone.localdate() + timedelta(days=days)
    assert last_day_problem(last_day, timezone.localdate()) is None
    assert form_for(last_day).is_valid()
    token = made_through(last_day, cast.orderer_a)
    assert token.expires_at == datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=COPENHAGEN)


@pytest.mark.parametrize("days", [-1, 366])
def test_a_token_may_not_end_before_today_nor_after_the_365th_day_from_today(cast, days):
    last_day = timezone.localdate() + timedelta(days=days)
    assert last_day_problem(last_day, timezone.localdate())
    form = form_for(last_day)
    assert not form.is_valid() and "last_day" in form.errors
    with pytest.raises(Invalid) as refused:
        made_through(last_day, cast.orderer_a)
    assert list(refused.value.errors) == ["last_day"]  # a field the profile's form has
    assert not ApiToken.objects.exists()


def test_the_form_and_the_service_agree_on_the_last_day_across_a_change_of_summer_time(cast, client, monkeypatch):
    # Half past midnight, summer time, on the day before summer time ends; a year on, it ended the day before.
    # timezone.now() is in UTC, as Django's is: a day's arithmetic on it is 24 hours, whatever the clock does.
    now = datetime(2027, 10, 30, 0, 30, tzinfo=COPENHAGEN).astimezone(UTC)
    monkeypatch.setattr(timezone, "now", lambda: now)
    last_allowed = date(2028, 10, 29)
    assert timezone.localdate() + timedelta(days=365) == last_allowed
    assert form_for(last_allowed).is_valid()
    token = made_through(last_allowed, cast.orderer_a)
    assert token.expires_at == datetime(2028, 10, 30, 0, 0, tzinfo=COPENHAGEN)
    # Through the profile page as well: the form's field, then the service.
    client.force_login(cast.orderer_b)
    response = client.post(PROFILE, {"name": "Natlig", "scopes": ["read"], "last_day": last_allowed.isoformat()})
    assert response.status_code == 200
    assert ApiToken.objects.get(user=cast.orderer_b).last_day == last_allowed
    # And the day after is refused by both.
    assert not form_for(last_allowed + timedelta(days=1)).is_valid()
    with pytest.raises(Invalid):
        made_through(last_allowed + timedelta(days=1), cast.orderer_a)
