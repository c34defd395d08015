"""How the API answers, whatever the endpoint: problems in the request's language, ETags, pages, rates."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ordering.models import AccessOrder
from tests.conftest import make_order

from .conftest import bearer, make_token

JSON = "application/json"


# --- Problems (RFC 9457), Danish unless English is asked for -------------------------------------


def test_a_refusal_is_a_problem_with_the_services_sentence_in_danish_by_default(cast, order_in, api):
    order = order_in("submitted")
    response = api("orderer_a").patch(f"/api/v1/orders/{order.pk}/", {"note": "x"}, content_type=JSON)
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response["Content-Language"] == "da"
    body = response.json()
    assert body == {
        "type": "https://opus-adgang.invalid/problems/not-allowed-now",
        "title": body["title"],
        "status": 409,
        "code": "not_allowed_now",
        "detail": "Kun en kladde kan ændres. Bestillingen er „Indsendt“.",
    }


def test_the_same_refusal_in_english_when_asked(cast, order_in, api):
    order = order_in("submitted")
    client = api("orderer_a", Accept_Language="en-GB,en;q=0.9,da;q=0.5")
    response = client.patch(f"/api/v1/orders/{order.pk}/", {"note": "x"}, content_type=JSON)
    assert response["Content-Language"] == "en"
    assert response.json()["detail"] == "Only a draft can be changed. This order is “Submitted”."
    assert response.json()["title"] == "Not allowed now"


def test_an_unknown_language_falls_back_to_danish(cast, order_in, api):
    order = order_in("submitted")
    response = api("orderer_a", Accept_Language="fr, de;q=0.8").patch(
        f"/api/v1/orders/{order.pk}/", {"note": "x"}, content_type=JSON
    )
    assert response["Content-Language"] == "da"
    assert response.json()["detail"].startswith("Kun en kladde")


def test_a_role_refusal_is_403_with_the_services_sentence(cast, order_in, api, security_log):
    order = order_in("draft")
    response = api("signatory_a").post(f"/api/v1/orders/{order.pk}/submit/", {}, content_type=JSON)
    assert response.status_code == 403
    assert response.json()["detail"] == "Du har ikke den rolle, der skal til for at gøre dette på kundens bestilling."
    assert AccessOrder.objects.get(pk=order.pk).state == "draft"
    assert security_log("action_refused")


def test_another_customers_order_is_a_plain_404_problem_and_a_security_log_line(cast, order_in, api, security_log):
    order = order_in("draft")
    theirs = api("orderer_b").get(f"/api/v1/orders/{order.pk}/")
    missing = api("orderer_b").get("/api/v1/orders/999999/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert theirs.json()["code"] == "not_found"
    assert [line["id"] for line in security_log("other_customers_object")] == [order.pk]


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("delete", "/api/v1/orders/{pk}/", 405, "method_not_allowed"),
        ("put", "/api/v1/orders/{pk}/", 405, "method_not_allowed"),
        ("get", "/api/v1/no-such-thing/", 404, "not_found"),
        ("post", "/api/v1/orders/-1/submit/", 404, "not_found"),
        # A line break in the path (schemathesis found it): still the API's problem, not the site's HTML page.
        ("post", "/api/v1/orders/F%0Ax/certificates/", 404, "not_found"),
    ],
)
def test_other_http_errors_are_problems_too(cast, order_in, api, method, path, status, code):
    order = order_in("draft")
    response = getattr(api("orderer_a"), method)(path.format(pk=order.pk))
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code
    if status == 405:
        assert response["Allow"] == "GET, PATCH, HEAD, OPTIONS"


def test_a_body_that_is_not_json_is_a_problem(cast, order_in, api):
    order = order_in("draft")
    client = api("orderer_a")
    broken = client.post(f"/api/v1/orders/{order.pk}/submit/", "{not json", content_type=JSON)
    assert (broken.status_code, broken.json()["code"]) == (400, "malformed")
    form = client.post(f"/api/v1/orders/{order.pk}/submit/", "a=b", content_type="text/plain")
    assert (form.status_code, form.json()["code"]) == (415, "unsupported_media_type")


def test_a_wrongly_typed_field_is_named(cast, api):
    response = api("orderer_a").post("/api/v1/orders/", {"external_system": "VagtPlan"}, content_type=JSON)
    assert response.status_code == 400
    assert {"external_system", "purchase_model", "environment"} <= set(response.json()["errors"])


# --- ETags and caching ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/orders/", "/api/v1/orders/{pk}/", "/api/v1/catalogue/interfaces/"])
def test_a_read_has_an_etag_and_if_none_match_answers_304(cast, order_in, api, path):
    order = order_in("draft")
    client = api("orderer_a")
    path = path.format(pk=order.pk)
    first = client.get(path)
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-cache"
    assert "Authorization" in first["Vary"] and "Accept-Language" in first["Vary"]
    etag = first["ETag"]
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert client.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200


def test_the_etag_changes_when_the_order_does_and_with_the_language(cast, order_in, api):
    order = order_in("draft")
    client = api("orderer_a")
    path = f"/api/v1/orders/{order.pk}/"
    before = client.get(path)["ETag"]
    client.patch(path, {"note": "Ny note"}, content_type=JSON)
    after = client.get(path, headers={"If-None-Match": before})
    assert after.status_code == 200 and after["ETag"] != before
    assert client.get(path, headers={"Accept-Language": "en"})["ETag"] != after["ETag"]


def test_a_logged_in_browser_does_not_turn_the_api_into_no_store(cast, order_in):
    order = order_in("draft")
    client = bearer(make_token(cast.orderer_a))
    client.force_login(cast.orderer_a)  # a session cookie as well: still the token's answer, still revalidatable
    response = client.get(f"/api/v1/orders/{order.pk}/")
    assert response["Cache-Control"] == "private, no-cache"


# --- Pagination -------------------------------------------------------------------------------


def test_lists_come_in_pages_with_a_maximum(cast, api, settings):
    settings.API_PAGE_SIZE = 2
    settings.API_MAX_PAGE_SIZE = 3
    orders = [
        make_order(cast, "draft", environment=env, codes=(code,))
        for env in ("production", "test")
        for code in ("opret-fravaer", "medarbejderoplysninger")
    ]
    client = api("orderer_a")
    first = client.get("/api/v1/orders/").json()
    assert first["count"] == 4 and len(first["results"]) == 2
    assert first["next"].endswith("/api/v1/orders/?limit=2&offset=2")
    second = client.get("/api/v1/orders/?limit=2&offset=2").json()
    assert second["next"] is None
    newest_first = sorted((o.pk for o in orders), reverse=True)
    assert [r["id"] for r in first["results"] + second["results"]] == newest_first
    assert len(client.get("/api/v1/orders/?limit=1000").json()["results"]) == 3


# --- Rate limits per token --------------------------------------------------------------------


def test_the_rate_limit_allows_exactly_n_requests_and_refuses_the_next_with_retry_after(cast, api, settings):
    settings.API_THROTTLE_RATE = "3/min"
    client = api("orderer_a", Accept_Language="en")
    for _ in range(3):
        assert client.get("/api/v1/catalogue/packages/").status_code == 200
    refused = client.get("/api/v1/catalogue/packages/")
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "too_many_requests"
    assert refused.json()["detail"].startswith("Too many requests with this token.")
    # The limit is the token's, not the user's or the address's: another token still has its allowance.
    assert api("orderer_a").get("/api/v1/catalogue/packages/").status_code == 200


# --- Query counts -----------------------------------------------------------------------------


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/orders/").status_code == 200
    return len(queries)


def test_the_order_list_takes_as_many_queries_for_one_order_as_for_many(cast, api):
    client = api("orderer_a")
    # One package order: it needs every query a page of orders can need (its own and its package's interfaces).
    make_order(cast, "draft", purchase_model="package", package=cast.package, codes=(), environment="test")
    client.get("/api/v1/orders/")  # the token's "last used" is written once; not part of the count
    one = _list_queries(client)
    for code in ("opret-fravaer", "medarbejderoplysninger", "moedetidsplaner"):
        make_order(cast, "submitted", codes=(code,))
        make_order(cast, "draft", codes=(code,), environment="test")
    make_order(cast, "draft", purchase_model="package", package=cast.package, codes=())
    assert AccessOrder.objects.count() == 8
    assert _list_queries(client) == one


def test_a_write_that_stayed_contended_is_503_with_retry_after_and_changes_nothing(cast, order_in, api, monkeypatch):
    """When deadlock retries run out (core/transactions.py) the request was fine: 503 and when to try again,
    never a 400 that tells a program its request was wrong."""
    from core.errors import Contended
    from ordering.services import running

    order = order_in("draft")

    def contended(order):
        raise Contended()

    monkeypatch.setattr(running, "lock_order", contended)  # where every transition takes the lock
    response = api("orderer_a").post(
        f"/api/v1/orders/{order.pk}/submit/", {"vendor_agreement": True}, content_type="application/json"
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "2"
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "contended"
    order.refresh_from_db()
    assert order.state == "draft"
