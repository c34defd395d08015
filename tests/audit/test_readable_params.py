"""An event's parameters read as the reader's language writes them (issue 22): amounts "-500,00 kr.",
sizes "2,8 KB", dates "04.12.2029", codes as their labels; never "-500.00 kr.", "2892 bytes", "2029-12-04"."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone, translation

from audit import vocabulary
from audit.models import AuditEvent
from audit.trail import audit_record
from billing import services as billing
from billing.audit import BillingAuditKind
from certificates.audit import CertificateAuditKind


def test_an_amount_in_kroner_reads_with_danish_separators():
    with translation.override("da"):
        assert vocabulary.sentences({"adjustment_kind": "monthly", "adjustment_kr": "-500.00"}) == [
            "Månedlig: -500,00 kr."
        ]
        assert vocabulary.sentences({"adjustment_kind": "one_time", "adjustment_kr": "12345.5"}) == [
            "Engangsbeløb: 12.345,50 kr."
        ]
    with translation.override("en"):
        assert vocabulary.sentences({"adjustment_kind": "one_time", "adjustment_kr": "12345.50"}) == [
            "One-time: 12,345.50 kr."
        ]


def test_a_size_reads_in_kilobytes_and_a_date_as_a_danish_date():
    with translation.override("da"):
        assert vocabulary.sentences({"refused_file": "kæde.zip", "refused_size_bytes": 2892}) == [
            "kæde.zip, 2,8\xa0KB."
        ]
        assert vocabulary.sentences({"refused_file": "kæde.zip", "refused_size_bytes": 1023}) == [
            "kæde.zip, 1023\xa0bytes."
        ]
        assert vocabulary.sentences({"certificate_valid_to_on": "2029-12-04"}) == ["Gyldig til 04.12.2029."]


def test_consulting_hours_read_with_a_decimal_comma(cast, order_in):
    order = order_in("active")
    billing.consulting_record(
        order=order,
        actor=cast.am_a,
        hours=Decimal("1.5"),
        on=timezone.localdate(),
        description="Workshop",
    )
    event = AuditEvent.objects.filter(kind=BillingAuditKind.CONSULTING_RECORDED).get()
    assert event.comment == "Workshop"
    with translation.override("da"):
        today = timezone.localdate()
        assert event.comment_for_reader.startswith(f"{today:%d.%m.%Y}: 1,5 timer, ")
        assert today.isoformat() not in event.comment_for_reader and "1.5" not in event.comment_for_reader


def test_an_uploaded_certificate_is_recorded_with_its_dn_and_date_not_its_hash_in_the_text(cast, order_in):
    order = order_in("active")
    subject = "CN=Fraværsoverblik,O=Lokal IT ApS,C=DK"
    with transaction.atomic():
        event = audit_record(
            kind=CertificateAuditKind.CERTIFICATE_UPLOADED,
            order=order,
            actor=cast.orderer_a,
            role="orderer",
            params={
                "certificate_subject": subject,
                "certificate_sha256": "ab" * 32,
                "certificate_valid_to_on": datetime.date(2029, 12, 4),
            },
        )
    with translation.override("da"):
        assert event.comment_for_reader == f"Certifikat: {subject}.\nGyldig til 04.12.2029."
    assert event.params["certificate_sha256"] == "ab" * 32
