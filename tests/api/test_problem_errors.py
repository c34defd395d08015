"""A 400 always tells a program what to correct in `errors`, in the API's words, not the form's."""

import pytest
from rest_framework import exceptions

from api.problems import exception_handler
from ordering.models import AccessOrder
from tests.api.test_endpoints import JSON, order_body


def test_a_services_field_errors_come_with_the_apis_sentence_not_the_forms(cast, api, monkeypatch):
    from core.errors import Invalid

    def refuse(**kwargs):
        raise Invalid("The order has errors. Correct the fields marked below.", errors={"note": "Too long."})

    monkeypatch.setattr("api.views.order_create", refuse)
    client = api("orderer_a", Accept_Language="en")
    orders_before = AccessOrder.objects.count()
    response = client.post("/api/v1/orders/", order_body(cast), content_type=JSON)

    assert response.status_code == 400
    assert response.json()["detail"] == "The request has errors. Correct the fields named in “errors”."
    assert response.json()["errors"] == {"note": "Too long."}
    assert AccessOrder.objects.count() == orders_before  # refused: no order was made


def test_a_refusal_that_names_no_field_names_the_whole_request(cast, individual_order, api):
    order = individual_order("draft", upload=False)
    response = api("orderer_a", Accept_Language="en").post(
        f"/api/v1/orders/{order.pk}/submit/", {"vendor_agreement": True}, content_type=JSON
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "certificate" in body["detail"]
    assert body["errors"] == {"": body["detail"]}


@pytest.mark.parametrize("realm", ['Bearer realm="api"', 'Bearer realm="access-register"'])
def test_a_401_challenges_with_the_realm_of_the_views_own_authentication(realm):
    refused = exceptions.AuthenticationFailed("The token is unknown, expired or revoked.")
    refused.auth_header = realm  # as DRF sets it from the view's authenticate_header

    response = exception_handler(refused, {})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == realm
    assert response.data["code"] == "not_authenticated"


def test_the_api_and_the_access_register_each_answer_401_with_their_own_realm(db):
    from django.test import Client

    assert Client().get("/api/v1/orders/")["WWW-Authenticate"] == 'Bearer realm="api"'
    assert Client().get("/api/v1/access-register")["WWW-Authenticate"] == 'Bearer realm="access-register"'


def test_an_unknown_address_and_an_unknown_order_say_the_same_404(cast, api):
    from django.test import Client

    client = api("orderer_a", Accept_Language="en")
    for language in ("en", "da"):
        unknown_address = Client(headers={"Accept-Language": language}).get("/api/v1/no-such-thing/")
        unknown_order = api("orderer_a", Accept_Language=language).get("/api/v1/orders/999999/")
        assert unknown_address.status_code == unknown_order.status_code == 404
        assert unknown_address.json() == unknown_order.json()
    assert client.get("/api/v1/orders/999999/").json()["detail"] == (
        "There is nothing here, or it is not yours to see. Check the address and the number."
    )
