"""Uploading a chain on an order: every attempt recorded, only accepted chains stored, tenants apart."""

import pytest
from django.core import mail
from django.urls import reverse

from audit.models import AuditEvent
from certificates import services as cert_services
from certificates.models import Certificate, CertificateBundle, CertificateUpload
from certificates.testing import make_leaf, pem
from ordering import services

from .test_pem_intake import HIDDEN_KEYS
from .test_validation import HOSTILE


def upload(order, actor, data, filename="kaede.zip"):
    return cert_services.certificate_upload(order=order, actor=actor, data=data, filename=filename)


def test_an_accepted_chain_becomes_the_orders_bundle_with_an_audit_event(cast, individual_order, good_bundle):
    order = individual_order("draft", upload=False)
    record, report = upload(order, cast.orderer_a, good_bundle)
    assert report.valid and record.verdict == "accepted"
    bundle = CertificateBundle.objects.get()
    assert (bundle.status, bundle.environment) == ("current", "test")
    assert bytes(bundle.data) == "".join(c.pem for c in bundle.certificates.all()).encode()  # not the zip sent
    assert list(bundle.certificates.values_list("role", flat=True)) == ["leaf", "intermediate"]
    leaf = bundle.certificates.get(role="leaf")
    assert leaf.cvr == cast.own_system.vendor.cvr and leaf.key == "RSA 3072"
    event = order.events.order_by("-seq").first()
    assert event.kind == "certificate_uploaded" and event.params["certificate_sha256"] == leaf.sha256
    assert leaf.sha256 not in event.comment_for_reader  # the history names the certificate, not its hash


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_refused_upload_is_recorded_but_nothing_of_it_is_stored(
    case, cast, individual_order, pki, other_pki, leaf, now
):
    order = individual_order("draft", upload=False)
    builder, code = HOSTILE[case]
    data, filename = builder(pki, other_pki, leaf, now)
    events_before = AuditEvent.objects.count()

    record, report = upload(order, cast.orderer_a, data, filename)

    assert not report.valid
    assert CertificateBundle.objects.count() == 0 and Certificate.objects.count() == 0
    # Nothing is recorded about the order, except that someone sent key material (issue #8).
    assert AuditEvent.objects.count() == events_before + (1 if report.contains_private_key else 0)
    record = CertificateUpload.objects.get()
    assert record.verdict == "rejected"
    assert code in [f["code"] for f in record.findings]
    assert record.size == len(data)
    assert record.sha256 == ""  # no hash of anything refused


def test_a_new_chain_on_a_draft_replaces_the_previous_one(cast, individual_order, pki):
    order = individual_order("draft")
    first = CertificateBundle.objects.get()
    upload(order, cast.orderer_a, pem(make_leaf(pki, cvr="31415926"), pki.issuing), "ny.pem")
    first.refresh_from_db()
    assert first.status == "superseded"
    assert CertificateBundle.objects.filter(status="current").count() == 1


def test_individual_integration_cannot_be_submitted_without_a_chain(cast, individual_order):
    order = individual_order("draft", upload=False)
    with pytest.raises(services.Invalid) as error:
        services.order_submit(order=order, actor=cast.orderer_a)
    assert "OCES3" in error.value.message


def test_individual_integration_is_submitted_with_a_valid_chain(cast, individual_order):
    order = individual_order("draft")
    assert services.order_submit(order=order, actor=cast.orderer_a).state == "submitted"


def test_a_chain_checked_for_another_environment_does_not_count(cast, individual_order):
    from tests.conftest import facts

    order = individual_order("draft")
    order = services.order_update_draft(
        order=order, actor=cast.orderer_a, facts=facts(cast, system=cast.own_system, environment="production")
    )
    with pytest.raises(services.Invalid) as error:
        services.order_submit(order=order, actor=cast.orderer_a)
    assert "environment" in error.value.message or "miljø" in error.value.message


def test_production_uploads_say_plainly_that_no_anchors_are_configured(cast, trusted_test_environment, good_bundle):
    from tests.conftest import make_order

    order = make_order(cast, "draft", system=cast.own_system, environment="production")
    record, report = upload(order, cast.orderer_a, good_bundle)
    assert report.codes() == ["no_trust_anchors"]
    assert record.verdict == "rejected"


def test_standard_integration_takes_no_certificate(cast, order_in, trusted_test_environment, good_bundle):
    order = order_in("draft")
    with pytest.raises(services.NotAllowedNow):
        upload(order, cast.orderer_a, good_bundle)
    assert not CertificateUpload.objects.exists()


@pytest.mark.parametrize("person", ["signatory_a", "am_a", "support", "orderer_b"])
def test_only_the_customers_orderers_upload(cast, individual_order, good_bundle, person):
    order = individual_order("draft", upload=False)
    with pytest.raises(services.NotPermitted):
        upload(order, getattr(cast, person), good_bundle)
    assert not CertificateUpload.objects.exists()


def test_rollover_waits_for_the_account_manager_and_both_steps_are_audited(
    cast, individual_order, pki, django_capture_on_commit_callbacks
):
    order = individual_order("active")
    old = CertificateBundle.objects.get()
    new_leaf = make_leaf(pki, cvr="31415926", common_name="Fraværsoverblik 2027")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        upload(order, cast.orderer_a, pem(new_leaf, pki.issuing), "ny.pem")
    pending = CertificateBundle.objects.get(status="pending")
    old.refresh_from_db()
    assert old.status == "current"
    assert [m.to for m in mail.outbox] == [["am_a@example.test"]]

    with pytest.raises(services.NotPermitted):
        cert_services.certificate_rollover_confirm(order=order, actor=cast.orderer_a)
    with pytest.raises(services.NotPermitted):
        cert_services.certificate_rollover_confirm(order=order, actor=cast.am_b)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        cert_services.certificate_rollover_confirm(order=order, actor=cast.am_a)
    old.refresh_from_db()
    pending.refresh_from_db()
    assert (old.status, pending.status, pending.confirmed_by) == ("superseded", "current", cast.am_a)
    assert [m.to for m in mail.outbox] == [["orderer_a@example.test"]]
    transitions = list(order.events.values_list("kind", flat=True))
    assert transitions[-2:] == ["certificate_rollover_requested", "certificate_rollover_confirmed"]


def test_confirming_with_nothing_waiting_is_refused(cast, individual_order):
    order = individual_order("active")
    with pytest.raises(services.NotAllowedNow):
        cert_services.certificate_rollover_confirm(order=order, actor=cast.am_a)


@pytest.mark.parametrize("state", ["submitted", "awaiting_signature", "provisioning"])
def test_the_chain_cannot_change_while_kmd_works_on_the_order(cast, individual_order, good_bundle, state):
    order = individual_order(state)
    with pytest.raises(services.NotAllowedNow):
        upload(order, cast.orderer_a, good_bundle)


# --- Pages and downloads ----------------------------------------------------------------------


def test_orderer_uploads_through_the_page_and_sees_the_chain(cast, individual_order, good_bundle, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = individual_order("draft", upload=False)
    client.force_login(cast.orderer_a)
    response = client.post(
        reverse("certificates:upload", args=[order.pk]),
        {"bundle": SimpleUploadedFile("kaede.zip", good_bundle, content_type="application/zip")},
    )
    assert response.status_code == 302
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    leaf = Certificate.objects.get(role="leaf")
    assert leaf.sha256 in body and "NTRDK" in body
    assert reverse("certificates:chain_download", args=[order.pk, leaf.bundle_id]) in body


def test_a_pem_with_a_hex_key_after_the_chain_is_refused_on_the_page_with_the_line_named(
    cast, individual_order, pki, vendor_leaf, client
):
    """Issue #21: the page accepted this (302 and a new chain) though nothing but certificates is to pass."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = individual_order("draft", upload=False)
    client.force_login(cast.orderer_a)
    chain = pem(vendor_leaf, pki.issuing)
    data = chain + HIDDEN_KEYS["in hex"]()
    response = client.post(
        reverse("certificates:upload", args=[order.pk]), {"bundle": SimpleUploadedFile("k.pem", data)}
    )
    assert response.status_code == 302
    assert CertificateBundle.objects.count() == 0
    record = CertificateUpload.objects.get()
    assert record.verdict == "rejected" and [f["code"] for f in record.findings] == ["pem_unexpected_text"]
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    number = chain.count(b"\n") + 1
    assert f"Linje {number} i „k.pem“ hører ikke hjemme i en certifikatfil" in body


def test_an_oversized_upload_is_cut_at_the_cap_and_refused(cast, individual_order, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = individual_order("draft", upload=False)
    client.force_login(cast.orderer_a)
    big = b"A" * (3 * 1024 * 1024)
    client.post(reverse("certificates:upload", args=[order.pk]), {"bundle": SimpleUploadedFile("stor.zip", big)})
    record = CertificateUpload.objects.get()
    assert record.verdict == "rejected" and record.findings[0]["code"] == "file_too_large"
    assert record.size == len(big)  # the real size, though only the cap + 1 byte was kept
    assert CertificateBundle.objects.count() == 0


def test_upload_needs_a_csrf_token(cast, individual_order, good_bundle):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    order = individual_order("draft", upload=False)
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.orderer_a)
    response = client.post(
        reverse("certificates:upload", args=[order.pk]), {"bundle": SimpleUploadedFile("k.zip", good_bundle)}
    )
    assert response.status_code == 403
    assert not CertificateUpload.objects.exists()


def test_findings_are_shown_as_sentences_and_file_names_stay_text(cast, individual_order, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = individual_order("draft", upload=False)
    client.force_login(cast.orderer_a)
    client.post(
        reverse("certificates:upload", args=[order.pk]),
        {"bundle": SimpleUploadedFile("<b onmouseover=alert(1)>.pem", b"hello")},
    )
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "<b onmouseover" not in body
    assert "&lt;b onmouseover=alert(1)&gt;.pem" in body
    assert "kan ikke læses som certifikater" in body


@pytest.mark.parametrize("person", ["orderer_b", "signatory_b", "am_b", "outsider"])
def test_other_customers_get_404_for_every_certificate_page_and_download(
    cast, individual_order, good_bundle, client, person
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = individual_order("active")
    bundle = CertificateBundle.objects.get()
    client.force_login(getattr(cast, person))
    assert client.get(reverse("certificates:chain_download", args=[order.pk, bundle.pk])).status_code == 404
    assert client.post(reverse("certificates:confirm_rollover", args=[order.pk])).status_code == 404
    response = client.post(
        reverse("certificates:upload", args=[order.pk]), {"bundle": SimpleUploadedFile("k.zip", good_bundle)}
    )
    assert response.status_code == 404
    assert CertificateUpload.objects.count() == 1  # only the one made by the fixture


def test_a_bundle_is_only_reachable_through_its_own_order(cast, individual_order, order_in, client):
    order = individual_order("active")
    bundle = CertificateBundle.objects.get()
    own_other_order = order_in("draft", system=cast.canteen, codes=("engangsydelser",))
    client.force_login(cast.orderer_a)
    url = reverse("certificates:chain_download", args=[own_other_order.pk, bundle.pk])
    assert client.get(url).status_code == 404
    response = client.get(reverse("certificates:chain_download", args=[order.pk, bundle.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("person", ["orderer_a", "signatory_a", "am_a", "support"])
def test_the_chain_downloads_as_an_attachment_rebuilt_from_the_parsed_certificates(
    cast, individual_order, client, person
):
    order = individual_order("active")
    bundle = CertificateBundle.objects.get()
    client.force_login(getattr(cast, person))
    response = client.get(reverse("certificates:chain_download", args=[order.pk, bundle.pk]))
    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == f'attachment; filename="{order.reference}-certifikatkaede-{bundle.pk}.pem"'
    )
    assert response["Content-Type"] == "application/x-pem-file"
    body = response.content
    assert body.count(b"-----BEGIN CERTIFICATE-----") == 2
    assert not body.startswith(b"PK")  # never the raw upload


def test_support_and_account_managers_see_expiring_certificates_others_do_not(
    cast, trusted_test_environment, pki, now, client
):
    from datetime import timedelta

    from tests.conftest import make_order

    soon = make_leaf(pki, cvr="31415926", not_before=now - timedelta(days=1000), not_after=now + timedelta(days=45))
    later = make_leaf(pki, cvr="31415926", not_before=now - timedelta(days=10), not_after=now + timedelta(days=200))
    for leaf, code in ((soon, "opret-fravaer"), (later, "medarbejderoplysninger")):
        order = make_order(cast, "draft", system=cast.own_system, environment="test", codes=(code,))
        upload(order, cast.orderer_a, pem(leaf, pki.issuing), "k.pem")
        services.order_submit(order=order, actor=cast.orderer_a)
    url = reverse("certificates:expiring")
    for person, sees in [("am_a", True), ("support", True), ("am_b", False)]:
        client.force_login(getattr(cast, person))
        body = client.get(url).content.decode()
        assert ("Aarhus Kommune" in body) is sees, person
        assert body.count("<tr>") == (2 if sees else 0)  # header row + the one expiring within 90 days
    client.force_login(cast.orderer_a)
    assert client.get(url).status_code == 403


def test_the_expiring_list_shows_the_soonest_a_page_at_a_time(
    cast, trusted_test_environment, pki, now, client, monkeypatch
):
    """Issue 23: across every customer the watch window holds hundreds of certificates; the page shows the soonest
    EXPIRING_SHOWN, then the next page, so it costs the same whatever the data."""
    from datetime import timedelta

    from certificates import views
    from tests.conftest import make_order

    orders = []
    for days, code in ((50, "opret-fravaer"), (20, "medarbejderoplysninger"), (70, "moedetidsplaner")):
        leaf = make_leaf(
            pki, cvr="31415926", not_before=now - timedelta(days=900), not_after=now + timedelta(days=days)
        )
        order = make_order(cast, "draft", system=cast.own_system, environment="test", codes=(code,))
        upload(order, cast.orderer_a, pem(leaf, pki.issuing), "k.pem")
        orders.append(services.order_submit(order=order, actor=cast.orderer_a))
    fifty, twenty, seventy = orders
    monkeypatch.setattr(views, "EXPIRING_SHOWN", 2)
    client.force_login(cast.support)
    url = reverse("certificates:expiring")
    first = client.get(url).content.decode()
    assert first.count("<tr>") == 3  # the header and the two soonest
    assert first.index(twenty.reference) < first.index(fifty.reference) and seventy.reference not in first
    assert '?page=2"' in first
    second = client.get(url, {"page": 2}).content.decode()
    assert second.count("<tr>") == 2 and seventy.reference in second
    monkeypatch.setattr(views, "EXPIRING_SHOWN", 3)  # exactly one page
    whole = client.get(url).content.decode()
    assert whole.count("<tr>") == 4 and "?page=2" not in whole


def test_a_refused_upload_leaves_the_chain_in_use_as_it_was(cast, individual_order, pki, leaf):
    order = individual_order("draft")
    before = list(CertificateBundle.objects.values_list("pk", "status"))
    record, report = upload(order, cast.orderer_a, pem(leaf), "kun-system.pem")
    assert report.codes("error") == ["missing_intermediate"]
    assert list(CertificateBundle.objects.values_list("pk", "status")) == before
    assert Certificate.objects.count() == 2


def test_a_waiting_rollover_puts_the_order_in_the_account_managers_queue(cast, individual_order, pki, client):
    order = individual_order("active")
    client.force_login(cast.am_a)
    assert order.reference not in client.get(reverse("home")).content.decode()
    upload(order, cast.orderer_a, pem(make_leaf(pki, cvr="31415926"), pki.issuing), "ny.pem")
    assert order.reference in client.get(reverse("home")).content.decode()


# --- Forms ------------------------------------------------------------------------------------


def test_the_upload_form_renders_through_the_shared_field_template_with_the_validators_cap(
    cast, individual_order, client
):
    order = individual_order("draft", upload=False)
    client.force_login(cast.orderer_a)
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert '<label class="form-label" for="id_bundle">Upload certifikatkæden</label>' in body
    assert "eller en enkelt .pem-fil, højst 1,0\xa0MB." in body  # MAX_UPLOAD_BYTES, not a typed "1 MB"
    assert (
        '<input class="form-input" type="file" id="id_bundle" name="bundle" accept=".zip,.pem,.crt,.cer" '
        'aria-describedby="id_bundle-hint" required>'
    ) in body


def test_an_upload_without_a_file_is_refused_with_a_sentence_and_records_nothing(cast, individual_order, client):
    order = individual_order("draft", upload=False)
    client.force_login(cast.orderer_a)
    response = client.post(reverse("certificates:upload", args=[order.pk]), {}, follow=True)
    assert "Vælg filen med certifikatkæden (.zip eller .pem), før du uploader." in response.content.decode()
    assert not CertificateUpload.objects.exists()


def test_the_account_manager_confirms_the_chain_shown_not_one_uploaded_after(cast, individual_order, pki, client):
    order = individual_order("active")
    upload(order, cast.orderer_a, pem(make_leaf(pki, cvr="31415926", common_name="Første"), pki.issuing), "a.pem")
    shown = CertificateBundle.objects.get(status="pending")
    client.force_login(cast.am_a)
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert f'<input type="hidden" name="bundle" value="{shown.pk}" id="rollover-bundle">' in body

    upload(order, cast.orderer_a, pem(make_leaf(pki, cvr="31415926", common_name="Anden"), pki.issuing), "b.pem")
    newer = CertificateBundle.objects.get(status="pending")
    url = reverse("certificates:confirm_rollover", args=[order.pk])
    response = client.post(url, {"bundle": shown.pk}, follow=True)
    assert "En anden ny certifikatkæde er blevet uploadet i mellemtiden." in response.content.decode()
    assert CertificateBundle.objects.get(pk=newer.pk).status == "pending"

    client.post(url, {"bundle": newer.pk})
    assert CertificateBundle.objects.get(pk=newer.pk).status == "current"
