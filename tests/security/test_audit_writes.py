"""Every write that is not a transition is audited too, in the same transaction, with its own kind.

Before: consulting, start-up package use, licence end, "generate again" and price-list changes left
no trace, and a price adjustment showed the raw code `quote_adjusted` to customers.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from audit.models import AuditEvent
from audit.verification import audit_verify
from billing import services as billing
from billing.audit import BillingAuditKind
from billing.models import Charge, PriceList, RecurringFee, StartupPackage
from certificates.audit import CertificateAuditKind
from ordering import services
from ordering.audit import AuditKind
from tests.conftest import make_user


def newest_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()


def assert_audited(kind, *, actor, role, order=None, subject=None):
    event = newest_event()
    assert event.kind == kind
    assert (event.actor, event.actor_role) == (actor, role)
    assert event.order == order
    if subject is not None:
        assert (event.subject_type.model_class(), event.subject_id) == (type(subject), str(subject.pk))
    assert audit_verify() == []
    return event


def test_a_price_adjustment_is_audited_under_its_label(cast, order_in, client):
    order = order_in("submitted")
    billing.quote_adjustment_add(order=order, actor=cast.am_a, kind="one_time", amount=Decimal("-1000"), reason="Rabat")
    event = assert_audited(BillingAuditKind.QUOTE_ADJUSTED, actor=cast.am_a, role="account_manager", order=order)
    assert (event.comment, event.params) == ("Rabat", {"adjustment_kind": "one_time", "adjustment_kr": "-1000.00"})
    client.force_login(cast.orderer_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "Pris justeret" in page and "quote_adjusted" not in page
    # Read in Danish words and numbers (issue 22): not "Engangs: -1000.00 kr.".
    assert "Engangsbeløb: -1.000,00 kr.<br>Rabat" in page


def test_consulting_hours_are_audited_with_the_charge(cast, order_in):
    order = order_in("active")
    charge = billing.consulting_record(
        order=order, actor=cast.am_a, on=order.activated_on, hours=Decimal("2.5"), description="Sparring"
    )
    event = assert_audited(
        BillingAuditKind.CONSULTING_RECORDED, actor=cast.am_a, role="account_manager", order=order, subject=charge
    )
    assert event.comment == "Sparring"
    with translation.override("da"):
        assert "2,5 timer" in event.comment_for_reader and "Sparring" in event.comment_for_reader


def test_a_refused_consulting_entry_writes_no_event(cast, order_in):
    order = order_in("rejected")
    before = AuditEvent.objects.count()
    with pytest.raises(billing.BillingError):
        billing.consulting_record(
            order=order, actor=cast.am_a, on=timezone.localdate(order.created_at), hours=Decimal("1"), description="x"
        )
    assert AuditEvent.objects.count() == before
    assert not Charge.objects.filter(order=order).exists()


def test_startup_package_use_is_audited(cast, individual_order):
    order = individual_order("active", startup_package=True)
    billing.startup_usage_record(order=order, actor=cast.am_a, meetings=1, qa_hours=Decimal("1.5"))
    usage = StartupPackage.objects.get(order=order)
    event = assert_audited(
        BillingAuditKind.STARTUP_USAGE_RECORDED, actor=cast.am_a, role="account_manager", order=order, subject=usage
    )
    assert "+1 møder" in event.comment


def test_ending_a_licence_is_audited_with_the_licence(cast, order_in):
    order = order_in("active", system=cast.canteen, codes=("engangsydelser",))
    services.order_emergency_close(order=order, actor=cast.support, reason="Brud hos leverandøren")
    licence = RecurringFee.objects.get(order=order, kind=RecurringFee.Kind.LICENCE)
    billing.licence_end(fee=licence, actor=cast.am_a)
    assert_audited(
        BillingAuditKind.LICENCE_ENDED, actor=cast.am_a, role="account_manager", order=order, subject=licence
    )


def test_generating_a_document_again_is_audited(cast, order_in, monkeypatch):
    from ordering import documents

    monkeypatch.setattr(documents, "html_to_pdf", lambda html: (_ for _ in ()).throw(RuntimeError("fonts")))
    order = order_in("awaiting_signature")
    addendum = order.addenda.get()
    assert services.addendum_render(addendum.pk).render_status == "failed"
    services.addendum_render_again(addendum=addendum, actor=cast.am_a)
    assert_audited(
        AuditKind.ADDENDUM_RENDER_AGAIN, actor=cast.am_a, role="account_manager", order=order, subject=addendum
    )


def test_a_price_list_saved_in_the_admin_is_audited_without_an_order(cast, client):
    admin_user = make_user("price_admin", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    url = reverse("admin:billing_pricelist_change", args=[cast.price_list.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data["effective_from"] = cast.price_list.effective_from.isoformat()
    data["setup_fee"] = "6000.00"
    data["is_example"] = "on" if cast.price_list.is_example else ""
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        prefix = formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = str(formset.total_form_count())
        data[f"{prefix}-INITIAL_FORMS"] = str(formset.initial_form_count())
        for index, inline_form in enumerate(formset.forms):
            for name in inline_form.fields:
                value = inline_form[name].value()
                data[f"{prefix}-{index}-{name}"] = "" if value is None else str(value)
    response = client.post(url, data)
    assert response.status_code == 302
    assert PriceList.objects.get(pk=cast.price_list.pk).setup_fee == Decimal("6000.00")
    event = assert_audited(
        BillingAuditKind.PRICE_LIST_CHANGED, actor=admin_user, role="catalogue_admin", subject=cast.price_list
    )
    assert "setup_fee" in event.comment and "ændret" in event.comment


def test_a_certificate_refused_for_a_private_key_is_audited_without_the_key(cast, individual_order, pki, vendor_leaf):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from certificates import services as certificates
    from certificates.models import CertificateUpload

    order = individual_order("draft", upload=False)
    key = ec.generate_private_key(ec.SECP256R1())
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (vendor_leaf, pki.issuing))
    upload, report = certificates.certificate_upload(
        order=order, actor=cast.orderer_a, data=chain + key_pem, filename="system.pem"
    )
    assert report.contains_private_key
    event = assert_audited(
        CertificateAuditKind.CERTIFICATE_REFUSED_PRIVATE_KEY,
        actor=cast.orderer_a,
        role="orderer",
        order=order,
        subject=upload,
    )
    assert event.comment == ""
    assert event.params == {"refused_file": "system.pem", "refused_size_bytes": len(chain + key_pem)}
    with translation.override("da"):
        assert re.fullmatch(r"system\.pem, \d+,\d\sKB\.", event.comment_for_reader), event.comment_for_reader
    assert CertificateUpload.objects.get(pk=upload.pk).sha256 == ""


def test_a_certificate_refused_for_another_reason_writes_no_event(cast, individual_order, vendor_leaf):
    from cryptography.hazmat.primitives import serialization

    from certificates import services as certificates

    order = individual_order("draft", upload=False)
    before = AuditEvent.objects.count()
    certificates.certificate_upload(
        order=order, actor=cast.orderer_a, data=vendor_leaf.public_bytes(serialization.Encoding.PEM), filename="a.pem"
    )
    assert AuditEvent.objects.count() == before
