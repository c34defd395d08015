"""Requests the API cannot serve as sent – OPTIONS, bodies too deep, too large or not what their content type
says – are answered with a problem or a plain answer, never a 500."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from billing.models import Invoice
from certificates.validation import MAX_UPLOAD_BYTES
from ordering.models import AccessOrder

PROBLEM = "application/problem+json"


def api_url_names() -> list[str]:
    """The name of every address under /api/, however deeply included, so a new endpoint is tried too."""
    (api_resolver,) = [p for p in get_resolver().url_patterns if getattr(p, "namespace", None) == "api"]

    def names(patterns) -> list[str]:
        found = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                found += names(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                found.append(pattern.name)
        return found

    return names(api_resolver.url_patterns)


def test_the_walk_finds_the_endpoints():
    assert {"orders", "order", "certificate_upload", "invoice", "schema", "access_register"} <= set(api_url_names())


def every_api_path(order_pk: int, invoice_pk: int) -> list[str]:
    """Each named address under /api/, with arguments that name real objects, and an address that is none."""
    paths = []
    for name in api_url_names():
        pk = invoice_pk if name.startswith("invoice") else order_pk
        for kwargs in ({}, {"pk": pk}, {"pk": pk, "version": 1}, {"pk": pk, "action": "submit"}):
            try:
                paths.append(reverse(f"api:{name}", kwargs=kwargs))
                break
            except NoReverseMatch:
                continue
        else:
            raise AssertionError(f"No arguments found for api:{name}; add them here.")
    return [*paths, "/api/v1/no-such-address/"]


@pytest.mark.parametrize("scopes", [("read",), ("order",)])
def test_options_never_fails_on_any_api_address(cast, world, api, scopes):
    order = world["customer_a"]["awaiting_signature"]
    invoice = Invoice.objects.filter(customer=cast.customer_a).first()
    client = api("orderer_a", scopes)
    client.raise_request_exception = False
    for path in every_api_path(order.pk, invoice.pk):
        response = client.options(path)
        assert response.status_code < 500, (path, response.status_code)
        endpoint = path.startswith("/api/v1/") and "access-register" not in path and "no-such" not in path
        if scopes == ("read",) and endpoint:
            assert response.status_code == 200, (path, response.content)
            assert "OPTIONS" in response["Allow"] and response.content == b""


def test_options_names_the_methods_an_address_takes(cast, world, api):
    order = world["customer_a"]["draft"]
    response = api("orderer_a", ("read",)).options(f"/api/v1/orders/{order.pk}/")
    assert response.status_code == 200
    assert response["Allow"] == "GET, PATCH, HEAD, OPTIONS"


def test_json_nested_too_deeply_is_a_400_problem(cast, api):
    client = api("orderer_a", Accept_Language="en")
    deep = "[" * 200_000 + "]" * 200_000
    response = client.post("/api/v1/orders/", deep, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "malformed"
    assert response.json()["detail"].startswith("The JSON is nested too deeply")
    assert not AccessOrder.objects.exists()


def test_a_body_over_the_limit_is_a_413_problem(cast, api, settings):
    client = api("orderer_a", Accept_Language="en")
    body = json.dumps({"note": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = client.post("/api/v1/orders/", body, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "too_large"
    assert response.json()["detail"].startswith("The body is too large")


def test_a_form_field_over_the_limit_in_a_multipart_body_is_a_413_problem(cast, individual_order, api, settings):
    order = individual_order("draft", upload=False)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = api("orderer_a").post(f"/api/v1/orders/{order.pk}/certificates/", {"note": "x" * 2000})
    assert (response.status_code, response.json()["code"]) == (413, "too_large")


def test_a_certificate_file_over_the_body_limit_still_gets_the_uploads_own_finding(
    cast, individual_order, api, settings
):
    order = individual_order("draft", upload=False)
    too_large = MAX_UPLOAD_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1
    response = api("orderer_a", Accept_Language="en").post(
        f"/api/v1/orders/{order.pk}/certificates/", {"bundle": SimpleUploadedFile("big.pem", b"A" * too_large)}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "certificate_not_accepted"
    assert [f["code"] for f in response.json()["findings"]] == ["file_too_large"]


def test_a_multipart_body_without_a_boundary_is_told_so_not_to_send_json(cast, individual_order, api):
    order = individual_order("draft", upload=False)
    response = api("orderer_a", Accept_Language="en").post(
        f"/api/v1/orders/{order.pk}/certificates/", b"bundle=x", content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "malformed"
    detail = response.json()["detail"]
    assert "multipart/form-data" in detail and "boundary" in detail and "JSON" not in detail


def test_broken_json_is_still_told_to_send_valid_json(cast, api):
    response = api("orderer_a", Accept_Language="en").post("/api/v1/orders/", "{oops", content_type="application/json")
    assert response.json()["detail"] == "The body could not be read. Send valid JSON."
