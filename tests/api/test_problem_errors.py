"""A 400 always tells a program what to correct in `errors`, in the API's words, not the form's."""

from tests.api.test_endpoints import JSON, order_body


def test_a_services_field_errors_come_with_the_apis_sentence_not_the_forms(cast, api, monkeypatch):
    from core.errors import Invalid
    from ordering import services

    def refuse(**kwargs):
        raise Invalid("The order has errors. Correct the fields marked below.", errors={"note": "Too long."})

    monkeypatch.setattr("api.views.order_create", refuse)
    response = api("orderer_a", Accept_Language="en").post("/api/v1/orders/", order_body(cast), content_type=JSON)

    assert response.status_code == 400
    assert response.json()["detail"] == "The request has errors. Correct the fields named in “errors”."
    assert response.json()["errors"] == {"note": "Too long."}
    assert services.order_create is not refuse  # the service itself is untouched


def test_a_refusal_that_names_no_field_names_the_whole_request(cast, individual_order, api):
    order = individual_order("draft", upload=False)
    response = api("orderer_a", Accept_Language="en").post(
        f"/api/v1/orders/{order.pk}/submit/", {"vendor_agreement": True}, content_type=JSON
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "certificate" in body["detail"]
    assert body["errors"] == {"": body["detail"]}
