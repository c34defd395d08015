"""Every endpoint's happy path, for the roles that use it, through the same services as the pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import ApiToken
from audit.models import AuditEvent
from billing.models import Invoice
from certificates.models import CertificateBundle, CertificateUpload
from certificates.testing import pem
from ordering.models import AccessOrder

from .conftest import ROLES

JSON = "application/json"


@pytest.mark.parametrize("person", ROLES)
def test_everyone_reads_the_catalogue(cast, api, person):
    client = api(person, ("read",))
    interfaces = client.get("/api/v1/catalogue/interfaces/").json()["results"]
    assert {row["code"] for row in interfaces} == {*cast.interfaces, "ind01"}
    ind01 = next(row for row in interfaces if row["code"] == "ind01")
    assert ind01["replaced_by"] == "engangsydelser" and ind01["kind"] == "file"
    systems = client.get("/api/v1/catalogue/external-systems/").json()["results"]
    assert {"VagtPlan", "KantineKort"} <= {row["name"] for row in systems}
    packages = client.get("/api/v1/catalogue/packages/").json()["results"]
    assert packages == [
        {
            "id": cast.package.pk,
            "code": "vagtplanpakke",
            "name": "Vagtplanpakke",
            "external_system": cast.rostering.pk,
            "interfaces": ["moedetidsplaner", "opret-fravaer"],
        }
    ]


@pytest.mark.parametrize(
    ("person", "sees"), [("orderer_a", "a"), ("signatory_a", "a"), ("am_a", "a"), ("support", "ab")]
)
def test_each_role_lists_the_orders_it_may_see(cast, world, api, person, sees):
    expected = {o.pk for c in sees for o in world[f"customer_{c}"].values()}
    response = api(person).get("/api/v1/orders/?limit=100")
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == expected


def test_the_list_takes_the_order_list_pages_filters_and_sorting(cast, world, api):
    client = api("am_a")
    mine = world["customer_a"]
    rows = client.get("/api/v1/orders/?state=submitted").json()["results"]
    assert [row["id"] for row in rows] == [mine["submitted"].pk]
    rows = client.get("/api/v1/orders/?environment=test&sort=number").json()["results"]
    assert [row["id"] for row in rows] == sorted([mine["active"].pk, mine["withdrawn"].pk])
    rows = client.get(f"/api/v1/orders/?q={mine['draft'].reference}").json()["results"]
    assert [row["id"] for row in rows] == [mine["draft"].pk]
    response = client.get("/api/v1/orders/?state=nonsense&sort=password")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"state", "sort"}


def order_body(cast, **overrides) -> dict:
    body = {
        "external_system": cast.rostering.pk,
        "purchase_model": "single",
        "interfaces": [cast.interfaces["medarbejderoplysninger"].pk],
        "environment": "production",
        "vendor_agreement_confirmed": True,
        "requisition_number": "REK-1",
    }
    body.update(overrides)
    return body


def test_an_orderer_creates_edits_submits_and_withdraws_an_order(cast, api):
    client = api("orderer_a")
    created = client.post("/api/v1/orders/", order_body(cast), content_type=JSON)
    assert created.status_code == 201, created.content
    order = created.json()
    assert created["Location"] == f"/api/v1/orders/{order['id']}/"
    assert (order["state"], order["interfaces"], order["requisition_number"]) == (
        "draft",
        ["medarbejderoplysninger"],
        "REK-1",
    )
    assert set(order["actions"]) == {"submit", "discard"}
    assert [event["kind"] for event in order["history"]] == ["create"]

    changed = client.patch(f"/api/v1/orders/{order['id']}/", {"note": "Til HR"}, content_type=JSON)
    assert changed.status_code == 200
    # Only the note changed; every other fact stays as the draft had it.
    assert (changed.json()["note"], changed.json()["requisition_number"]) == ("Til HR", "REK-1")
    assert changed.json()["interfaces"] == ["medarbejderoplysninger"]

    submitted = client.post(f"/api/v1/orders/{order['id']}/submit/", {}, content_type=JSON)
    assert submitted.status_code == 200
    assert submitted.json()["state"] == "submitted"
    assert [e["kind"] for e in submitted.json()["history"]] == ["create", "edit", "submit"]

    withdrawn = client.post(f"/api/v1/orders/{order['id']}/withdraw/", {"comment": "Fejl"}, content_type=JSON)
    assert withdrawn.status_code == 200
    assert withdrawn.json()["state"] == "withdrawn"
    assert withdrawn.json()["history"][-1]["comment"] == "Fejl"
    assert AuditEvent.objects.filter(order_id=order["id"]).count() == 4


def test_submitting_asks_for_the_vendor_agreement_as_the_page_does(cast, api):
    client = api("orderer_a", Accept_Language="en")
    created = client.post("/api/v1/orders/", order_body(cast, vendor_agreement_confirmed=False), content_type=JSON)
    pk = created.json()["id"]
    refused = client.post(f"/api/v1/orders/{pk}/submit/", {}, content_type=JSON)
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"vendor_agreement": "Confirm the agreement with the vendor before submitting."}
    done = client.post(f"/api/v1/orders/{pk}/submit/", {"vendor_agreement": True}, content_type=JSON)
    assert done.status_code == 200 and done.json()["vendor_agreement_confirmed"] is True


def test_the_order_form_rules_come_back_as_field_errors(cast, api):
    client = api("orderer_a", Accept_Language="en")
    response = client.post("/api/v1/orders/", order_body(cast, interfaces=[]), content_type=JSON)
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "interfaces": "Choose at least one interface the system should have access to."
    }
    assert AccessOrder.objects.count() == 0


def test_a_stale_expected_state_is_412(cast, order_in, api):
    order = order_in("draft")
    response = api("orderer_a").post(
        f"/api/v1/orders/{order.pk}/submit/", {"expected_state": "submitted"}, content_type=JSON
    )
    assert response.status_code == 412
    assert response.json()["code"] == "changed_meanwhile"


def test_the_order_detail_has_the_history_with_labels_the_quote_and_the_addenda(cast, world, api):
    order = world["customer_a"]["awaiting_signature"]
    body = api("signatory_a", Accept_Language="en").get(f"/api/v1/orders/{order.pk}/").json()
    assert [(e["kind"], e["kind_label"]) for e in body["history"]][:2] == [
        ("create", "Order created"),
        ("submit", "Submitted"),
    ]
    assert set(body["actions"]) == {"accept", "decline"}
    quote = body["quote"]
    assert quote["frozen"] is True
    assert {line["rule"] for line in quote["lines"]} >= {"setup_fee"}
    assert all(line["text"] for line in quote["lines"])
    assert body["addenda"][0]["document_url"] == f"/api/v1/orders/{order.pk}/addenda/1/pdf/"


@pytest.mark.parametrize("person", ROLES)
def test_everyone_who_sees_the_order_downloads_its_addendum(cast, world, api, person):
    order = world["customer_a"]["awaiting_signature"]
    addendum = order.addenda.get()
    response = api(person, ("read",)).get(f"/api/v1/orders/{order.pk}/addenda/1/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["ETag"] == f'"{addendum.pdf_sha256}"'
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]
    again = api(person, ("read",)).get(
        f"/api/v1/orders/{order.pk}/addenda/1/pdf/", headers={"If-None-Match": response["ETag"]}
    )
    assert again.status_code == 304


def test_an_addendum_not_generated_or_not_accepted_is_404(cast, world, api):
    order = world["customer_a"]["awaiting_signature"]
    assert api("orderer_a").get(f"/api/v1/orders/{order.pk}/addenda/1/accepted-pdf/").status_code == 404
    assert api("orderer_a").get(f"/api/v1/orders/{order.pk}/addenda/2/pdf/").status_code == 404


def test_an_orderer_uploads_a_certificate_chain(cast, individual_order, good_bundle, api):
    order = individual_order("draft", upload=False)
    bundle = SimpleUploadedFile("kaede.zip", good_bundle, content_type="application/zip")
    response = api("orderer_a", Accept_Language="en").post(
        f"/api/v1/orders/{order.pk}/certificates/", {"bundle": bundle}
    )
    assert response.status_code == 201, response.content
    assert response.json()["accepted"] is True
    assert response.json()["detail"] == "The certificate chain was checked and accepted."
    assert CertificateBundle.objects.get(order=order).status == "current"


def test_a_refused_chain_is_422_with_the_findings_and_the_attempt_recorded(cast, individual_order, api):
    order = individual_order("draft", upload=False)
    junk = SimpleUploadedFile("kaede.pem", b"not a certificate", content_type="application/x-pem-file")
    response = api("orderer_a", Accept_Language="en").post(f"/api/v1/orders/{order.pk}/certificates/", {"bundle": junk})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "certificate_not_accepted"
    assert body["findings"] and all(f["message"] for f in body["findings"])
    assert CertificateUpload.objects.get(order=order).verdict == "rejected"
    assert not CertificateBundle.objects.filter(order=order).exists()


def test_a_pem_with_a_key_in_double_base64_after_the_chain_is_422_naming_the_line(
    cast, individual_order, pki, vendor_leaf, api
):
    """Issue #21: the API accepted this (201) though nothing but certificates is to pass."""
    from tests.certificates.test_pem_intake import HIDDEN_KEYS

    order = individual_order("draft", upload=False)
    chain = pem(vendor_leaf, pki.issuing)
    bundle = SimpleUploadedFile(
        "k.pem", chain + HIDDEN_KEYS["in double base64"](), content_type="application/x-pem-file"
    )
    response = api("orderer_a", Accept_Language="en").post(
        f"/api/v1/orders/{order.pk}/certificates/", {"bundle": bundle}
    )
    assert response.status_code == 422, response.content
    (finding,) = response.json()["findings"]
    assert finding["code"] == "pem_unexpected_text"
    number = chain.count(b"\n") + 1
    assert finding["message"].startswith(f"Line {number} of “k.pem” does not belong in a certificate file")
    assert not CertificateBundle.objects.filter(order=order).exists()


def test_an_upload_without_a_file_names_the_field_as_the_page_does(cast, individual_order, api):
    order = individual_order("draft", upload=False)
    response = api("orderer_a", Accept_Language="en").post(f"/api/v1/orders/{order.pk}/certificates/", {})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "bundle": "Choose the file with the certificate chain (.zip or .pem) before uploading."
    }


def test_only_the_orderer_may_upload(cast, individual_order, good_bundle, api):
    order = individual_order("draft", upload=False)
    bundle = SimpleUploadedFile("kaede.zip", good_bundle)
    response = api("signatory_a").post(f"/api/v1/orders/{order.pk}/certificates/", {"bundle": bundle})
    assert response.status_code == 403
    assert not CertificateUpload.objects.exists()


@pytest.mark.parametrize(("person", "customers"), [("orderer_a", {"a"}), ("am_a", {"a"}), ("support", {"a", "b"})])
def test_invoices_list_and_detail(cast, world, api, person, customers):
    client = api(person)
    rows = client.get("/api/v1/invoices/").json()["results"]
    cvrs = {getattr(cast, f"customer_{c}").cvr for c in customers}
    assert {row["cvr"] for row in rows} == cvrs
    detail = client.get(rows[0]["url"]).json()
    assert detail["number"] == rows[0]["number"]
    assert detail["lines"] and all(line["description"] for line in detail["lines"])
    # What a municipality books by: the invoice date, the terms and the due date, as the PDF prints them.
    invoice = Invoice.objects.get(number=detail["number"])
    assert (detail["issued_on"], detail["payment_terms_days"], detail["due_on"]) == (
        invoice.issued_on.isoformat(),
        invoice.payment_terms_days,
        invoice.due_on.isoformat(),
    )


def test_the_tokens_scopes_are_what_the_profile_offers(cast):
    assert [s for s in ApiToken.Scope.values if s != "register"] == ["read", "order"]


# --- Any lifecycle action by name, as each role takes it ----------------------------------------


def act(client, order, action, **body):
    return client.post(f"/api/v1/orders/{order.pk}/actions/{action}/", body, content_type=JSON)


def test_each_role_takes_its_actions_from_submission_to_emergency_closure(cast, order_in, api):
    from ordering import services

    order = order_in("submitted")
    am, signatory, orderer = api("am_a"), api("signatory_a"), api("orderer_a")
    issued = act(am, order, "issue_addendum", comment="Tillæg klar")
    assert issued.status_code == 200, issued.content
    assert issued.json()["state"] == "awaiting_signature"
    addendum = services.addendum_render(order.addenda.get().pk)  # the worker's part, done here

    # The signatory accepts exactly the version read: its SHA-256, their name and title, the statement ticked.
    body = {"document_sha256": addendum.pdf_sha256, "signer_name": "Tove Tegner", "signer_title": "HR-chef"}
    unticked = act(signatory, order, "accept", **body)
    assert unticked.status_code == 400 and set(unticked.json()["errors"]) == {"confirm"}
    accepted = act(signatory, order, "accept", confirm=True, **body)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["state"] == "provisioning"
    order.addenda.get().refresh_from_db()
    assert order.addenda.get().signer_name == "Tove Tegner"

    # The acceptance's day in Danish time: just after midnight the UTC date is still the day before.
    activated = act(am, order, "activate", on=str(timezone.localdate(order.addenda.get().decided_at)))
    assert activated.status_code == 200, activated.content
    assert activated.json()["state"] == "active"
    assert "request_closure" in orderer.get(f"/api/v1/orders/{order.pk}/").json()["actions"]

    closed = act(api("support"), order, "emergency_close", comment="Sikkerhedsbrud hos leverandøren", confirm=True)
    assert closed.status_code == 200, closed.content
    assert closed.json()["state"] == "emergency_closed"
    assert [e["kind"] for e in closed.json()["history"]][-1] == "emergency_close"


def test_an_action_the_role_may_not_take_is_403_and_an_unknown_action_404(cast, order_in, api):
    order = order_in("submitted")
    refused = act(api("orderer_a"), order, "issue_addendum")
    assert refused.status_code == 403
    assert AccessOrder.objects.get(pk=order.pk).state == "submitted"
    assert act(api("am_a"), order, "approve_everything").status_code == 404


def test_a_required_reason_is_named_as_the_page_names_it(cast, order_in, api):
    order = order_in("submitted")
    response = api("am_a", Accept_Language="en").post(
        f"/api/v1/orders/{order.pk}/actions/reject/", {}, content_type=JSON
    )
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"comment"}
    assert AccessOrder.objects.get(pk=order.pk).state == "submitted"


def test_the_history_states_the_date_decided_in_the_readers_language_as_the_page_does(cast, order_in, api):
    import datetime

    from django.utils import translation

    from ordering import services

    order = order_in("active")
    on = datetime.date(2099, 12, 31)
    with translation.override("da"):  # written by a Danish account manager
        services.order_schedule_closure(order=order, actor=cast.am_a, on=on, comment="Lukkes ved årsskiftet.")
    english = api("orderer_a", Accept_Language="en").get(f"/api/v1/orders/{order.pk}/").json()["history"][-1]
    danish = api("orderer_a").get(f"/api/v1/orders/{order.pk}/").json()["history"][-1]
    assert english["comment"] == "Access ends on 31/12/2099.\nLukkes ved årsskiftet."
    assert danish["comment"] == "Adgangen lukker den 31.12.2099.\nLukkes ved årsskiftet."
    stored = AuditEvent.objects.get(order=order, seq=english["seq"])
    assert stored.comment == "Lukkes ved årsskiftet."  # what was typed, as typed; the date is a parameter
    assert stored.params == {"ends_on": "2099-12-31"}


def test_in_production_the_api_cannot_accept_an_addendum_without_a_mitid_erhverv_login(cast, order_in, api, settings):
    """A token proves no MitID Erhverv login, and accepting binds the customer (docs/login.md)."""
    from ordering import services

    settings.PASSWORD_LOGIN = "break-glass"
    order = order_in("awaiting_signature")
    addendum = services.addendum_render(order.addenda.get().pk)
    body = {"document_sha256": addendum.pdf_sha256, "signer_name": "Tove Tegner", "signer_title": "HR-chef"}
    refused = act(api("signatory_a"), order, "accept", confirm=True, **body)
    assert refused.status_code == 403, refused.content
    assert "MitID Erhverv" in refused.json()["detail"]
    order.refresh_from_db()
    assert order.state == "awaiting_signature"
