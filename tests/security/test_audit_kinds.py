"""Every write is audited with a named kind, and no kind is ever shown as a raw code."""

import re
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from audit import vocabulary
from audit.models import AuditEvent
from audit.trail import audit_record
from audit.verification import audit_verify
from billing.audit import BillingAuditKind
from billing.models import PriceList
from ordering.audit import AuditKind
from ordering.thread import THREAD_KINDS


def timeline(html: str) -> str:
    return re.search(r'<ol class="timeline">(.*?)</ol>', html, re.S).group(1)


@pytest.fixture
def order_with_every_kind(cast, order_in):
    order = order_in("active")
    with transaction.atomic():
        for kind in AuditKind:
            audit_record(kind=kind, order=order, actor=cast.am_a, role="account_manager", comment=f"about {kind.label}")
    return order


@pytest.mark.parametrize("language", ["da", "en"])
def test_the_history_shows_every_kind_by_its_label_never_its_code(client, cast, order_with_every_kind, language):
    client.force_login(cast.orderer_a)
    client.cookies["django_language"] = language
    session = client.session
    session["_language"] = language
    session.save()
    with translation.override(language):
        response = client.get(reverse("ordering:order_detail", args=[order_with_every_kind.pk]))
        assert response.status_code == 200
        history = timeline(response.content.decode())
        for kind in AuditKind:
            assert f">{kind.value}<" not in history and f"{kind.value} " not in history
            if kind in THREAD_KINDS:  # a message is read in the order's thread, not repeated in its history
                assert f"<strong>{kind.label}</strong>" not in history
            else:
                assert f"<strong>{kind.label}</strong>" in history


def test_every_kind_of_every_app_has_a_danish_label_and_an_english_one():
    kinds = vocabulary.all_kinds()
    assert {kind.app for kind in kinds} == {"ordering", "billing", "certificates", "accounts", "webhooks", "core"}
    for kind in kinds:
        with translation.override("en"):
            english = str(kind.label)
        with translation.override("da"):
            danish = str(kind.label)
        assert english and danish and danish != english, kind.value


def test_an_event_without_an_order_names_its_own_object(cast):
    price_list = PriceList.objects.create(
        name="Prisliste 2027",
        effective_from="2027-01-01",
        setup_fee=Decimal("1.00"),
        startup_package_price=Decimal("1.00"),
        consulting_hourly_rate=Decimal("1.00"),
    )
    with transaction.atomic():
        event = audit_record(
            kind=BillingAuditKind.PRICE_LIST_CHANGED, subject=price_list, actor=cast.am_a, role="catalogue_admin"
        )
    event = AuditEvent.objects.get(pk=event.pk)
    assert event.order is None
    assert (event.subject_type.model_class(), event.subject_id) == (PriceList, str(price_list.pk))
    assert audit_verify() == []


def test_an_event_about_nothing_is_refused(cast):
    with pytest.raises(ValueError), transaction.atomic():
        audit_record(kind=BillingAuditKind.PRICE_LIST_CHANGED, actor=cast.am_a, role="catalogue_admin")


def test_an_unknown_kind_is_refused(cast, order_in):
    order = order_in("draft")
    with pytest.raises(ValueError), transaction.atomic():
        audit_record(kind="something_new", order=order, actor=cast.am_a, role="account_manager")
