"""Limits on tokens: how many live personal tokens one user may have, and how many refused tokens an address may send."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from accounts.models import ApiToken
from accounts.tokens import token_create, token_revoke
from core.errors import Invalid

from .conftest import make_token

ORDERS = "/api/v1/orders/"
IP = "192.0.2.44"


def make(user, name: str = "CI", *, days: int = 30) -> ApiToken:
    token, _secret = token_create(
        user=user, name=name, scopes=["read"], expires_at=timezone.now() + timedelta(days=days)
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
    make(cast.orderer_a, "second", days=1)
    token_revoke(token=first, actor=cast.orderer_a)
    make(cast.orderer_a, "third")  # the revoked one no longer counts
    with pytest.raises(Invalid):
        make(cast.orderer_a, "fourth")
    later = timezone.now() + timedelta(days=1, seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
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


def test_an_address_may_send_n_refused_tokens_and_is_answered_429_after(cast, settings, security_log):
    settings.API_INVALID_TOKEN_RATE = "3/min"
    guesser = Client(REMOTE_ADDR=IP, headers={"Authorization": "Bearer oa_guess", "Accept-Language": "en"})
    assert [guesser.get(ORDERS).status_code for _ in range(3)] == [401, 401, 401]
    refused = guesser.get(ORDERS)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "too_many_requests"
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
