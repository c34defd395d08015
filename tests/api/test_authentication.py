"""Who may call the API: a live personal token with the scope the method needs; nothing else, not a session."""

import hashlib
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import token_create, token_for_key, token_revoke

from .conftest import bearer, make_token

ORDERS = "/api/v1/orders/"


def test_no_token_is_401_with_a_problem_and_the_bearer_challenge(cast):
    response = Client().get(ORDERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Bearer oa_not-a-real-token", "Bearer ", "Bearer x" * 50, "Bearer oa_" + "x" * 200])
def test_an_unknown_or_malformed_token_is_401(cast, header):
    response = Client(headers={"Authorization": header}).get(ORDERS)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_session_cookie_does_not_authenticate_the_api(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.orderer_a)
    assert client.get(ORDERS).status_code == 401
    response = client.post(ORDERS, {}, content_type="application/json")
    assert response.status_code == 401  # not a CSRF failure: the session plays no part at all


def test_a_token_needs_no_csrf_token_for_writes(cast, order_in):
    order = order_in("draft")
    client = Client(enforce_csrf_checks=True, headers={"Authorization": f"Bearer {make_token(cast.orderer_a)}"})
    response = client.post(f"/api/v1/orders/{order.pk}/submit/", {}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["state"] == "submitted"


def test_a_personal_token_acts_as_its_user_and_records_its_use(cast, order_in):
    order = order_in("draft")
    secret = make_token(cast.orderer_a)
    assert [row["id"] for row in bearer(secret).get(ORDERS).json()["results"]] == [order.pk]
    assert bearer(make_token(cast.orderer_b)).get(ORDERS).json()["results"] == []
    assert ApiToken.objects.get(user=cast.orderer_a).last_used_at is not None


def test_only_the_sha256_of_a_token_is_stored(cast):
    token, secret = token_create(
        user=cast.orderer_a, name="CI", scopes=["read"], last_day=timezone.localdate(), actor=cast.orderer_a
    )
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert stored["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(stored)
    assert stored["prefix"] == secret[:10]


def test_a_token_works_until_the_instant_it_expires_and_not_at_that_instant(cast, monkeypatch):
    token, secret = token_create(
        user=cast.orderer_a, name="CI", scopes=["read"], last_day=timezone.localdate(), actor=cast.orderer_a
    )
    just_before = token.expires_at - timedelta(microseconds=1)
    assert token_for_key(secret, now=just_before) is not None
    assert token_for_key(secret, now=token.expires_at) is None
    # Through the API as well, with the clock at each instant.
    monkeypatch.setattr(timezone, "now", lambda: just_before)
    assert bearer(secret).get("/api/v1/catalogue/interfaces/").status_code == 200
    monkeypatch.setattr(timezone, "now", lambda: token.expires_at)
    assert bearer(secret).get("/api/v1/catalogue/interfaces/").status_code == 401


def test_last_used_is_written_at_most_once_a_minute(cast):
    token, secret = token_create(
        user=cast.orderer_a,
        name="CI",
        scopes=["read"],
        last_day=timezone.localdate() + timedelta(days=1),
        actor=cast.orderer_a,
    )
    first = timezone.now()

    def stored() -> object:
        return ApiToken.objects.values_list("last_used_at", flat=True).get(pk=token.pk)

    token_for_key(secret, now=first)
    assert stored() == first
    token_for_key(secret, now=first + timedelta(minutes=1))
    assert stored() == first  # a minute later exactly: not yet
    token_for_key(secret, now=first + timedelta(minutes=1, microseconds=1))
    assert stored() == first + timedelta(minutes=1, microseconds=1)


def test_a_revoked_token_is_refused_at_once(cast):
    secret = make_token(cast.orderer_a)
    client = bearer(secret)
    assert client.get(ORDERS).status_code == 200
    token_revoke(token=ApiToken.objects.get(user=cast.orderer_a), actor=cast.orderer_a)
    assert client.get(ORDERS).status_code == 401


def test_a_deactivated_users_tokens_are_refused(cast):
    client = bearer(make_token(cast.orderer_a))
    cast.orderer_a.is_active = False
    cast.orderer_a.save()
    assert client.get(ORDERS).status_code == 401


def test_a_read_token_cannot_write_and_an_order_token_cannot_read(cast, order_in):
    order = order_in("draft")
    read_only = bearer(make_token(cast.orderer_a, ("read",)))
    assert read_only.get(ORDERS).status_code == 200
    response = read_only.post(f"/api/v1/orders/{order.pk}/submit/", {}, content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "not_permitted"
    assert "order" in response.json()["detail"]
    assert order_in  # the order is untouched:
    order.refresh_from_db()
    assert order.state == "draft"
    write_only = bearer(make_token(cast.orderer_a, ("order",)))
    assert write_only.get(ORDERS).status_code == 403


def test_a_gateway_token_is_refused_on_every_endpoint_here(cast, gateway_token, order_in):
    order = order_in("draft")
    client = bearer(gateway_token)
    for path in ["/api/v1/catalogue/interfaces/", ORDERS, f"{ORDERS}{order.pk}/", "/api/v1/invoices/"]:
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "not_permitted"
    assert client.post(f"{ORDERS}{order.pk}/submit/", {}, content_type="application/json").status_code == 403


def test_a_personal_token_cannot_have_the_register_scope(cast):
    from core.errors import NotPermitted

    with pytest.raises(NotPermitted):
        token_create(
            user=cast.orderer_a, name="x", scopes=["register"], last_day=timezone.localdate(), actor=cast.orderer_a
        )


def test_the_schema_and_its_documentation_need_no_token_and_load_nothing_from_a_cdn(cast, settings):
    settings.WHITENOISE_USE_FINDERS = True  # served as in production, by WhiteNoise, without collectstatic
    settings.WHITENOISE_AUTOREFRESH = True
    client = Client()
    schema = client.get("/api/schema/?format=json")
    assert schema.status_code == 200
    assert schema.json()["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schema.json()["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    assert schema.json()["openapi"].startswith("3.1")
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css" in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
    # No inline script: every <script> has a src (the site's CSP forbids inline scripts).
    assert html.count("<script") == html.count("<script src=")
    sources = [part.split('"')[0] for part in html.split('<script src="')[1:]]
    sources += [part.split('"')[0] for part in html.split('<link rel="stylesheet" href="')[1:]]
    assert sources
    for src in sources:
        response = client.get(src if src.startswith("/") else "/api/docs/" + src)
        assert response.status_code == 200, src
        assert response["Content-Type"].split(";")[0] in ("text/javascript", "application/javascript", "text/css"), src
