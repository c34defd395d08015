"""English pages read British dates and DKK; Danish pages read dd.mm.yyyy; refusals say why; customers see whom to call."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from billing.templatetags.money import kroner
from certificates.testing import make_leaf
from certificates.validation import _NAME_LABELS, describe_name
from tests.conftest import make_order

US_DATE = re.compile(r"\b(1[0-2]|0?[1-9])/(3[01]|[12]\d|0?[1-9])/\d{4}\b|\b[ap]\.m\.")
DANISH_DATE = re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b")


def as_language(client, user, language: str):
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.mark.django_db
def test_english_pages_show_no_us_style_date_and_amounts_in_dkk(client, cast):
    # A day whose number cannot be a month's, so that 29/11 (British) and 11/29 (American) differ: on the
    # first twelve days of a month a British date matches the American pattern as well.
    with time_machine.travel(datetime(2026, 11, 29, 14, 3, tzinfo=UTC), tick=False):
        order = make_order(cast, "submitted")
        as_language(client, cast.orderer_a, "en")
        for url in (reverse("home"), reverse("ordering:order_list"), reverse("ordering:order_detail", args=[order.pk])):
            body = client.get(url).content.decode()
            assert not US_DATE.search(body), (url, US_DATE.search(body).group(0))
        detail = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert "29/11/2026 15:03" in detail  # the history, in en-GB and Danish time
    assert "DKK " in detail and " kr." not in detail


def test_the_american_date_pattern_tells_the_two_orders_apart():
    assert US_DATE.search("11/29/2026") and US_DATE.search("10:33 p.m.")
    assert not US_DATE.search("29/11/2026") and not US_DATE.search("29.11.2026")


@pytest.mark.django_db
def test_danish_history_shows_dd_mm_yyyy(client, cast):
    order = make_order(cast, "submitted")
    as_language(client, cast.orderer_a, "da")
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    history = body[body.index('class="timeline"') :]
    assert DANISH_DATE.search(history)


def test_amounts_follow_the_language():
    from decimal import Decimal

    from django.utils import translation

    with translation.override("en"):
        assert kroner(Decimal("12345.5")) == "DKK 12,345.50"
    with translation.override("da"):
        assert kroner(Decimal("12345.5")) == "12.345,50 kr."


@pytest.mark.django_db
def test_an_account_manager_opening_the_order_form_is_told_the_role_cannot_use_it(client, cast):
    as_language(client, cast.am_a, "en")
    response = client.get(reverse("ordering:order_create"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "orderers can order access or register systems" in body
    assert "open for a long time" not in body  # not the CSRF text


@pytest.mark.django_db
def test_a_role_denial_and_a_csrf_failure_say_different_things(cast):
    from django.test import Client

    client = as_language(Client(enforce_csrf_checks=True), cast.orderer_a, "en")
    denied = client.get(reverse("core:outbox_dead_letters")).content.decode()
    assert "Your role does not give access" in denied and "open for a long time" not in denied
    csrf = client.post(reverse("set_language"), {"language": "da"})
    assert csrf.status_code == 403
    assert "open for a long time" in csrf.content.decode()


@pytest.mark.django_db
def test_customers_see_their_account_manager_and_support_on_start_and_order_pages(client, cast, settings):
    settings.SUPPORT_PHONE = "+45 12 34 56 78"
    settings.SUPPORT_EMAIL = "support@kmd.example"
    order = make_order(cast, "submitted")
    as_language(client, cast.signatory_a, "da")
    for url in (reverse("home"), reverse("ordering:order_detail", args=[order.pk])):
        body = client.get(url).content.decode()
        assert cast.am_a.email in body and "+45 12 34 56 78" in body and "support@kmd.example" in body, url
        assert cast.am_b.email not in body


@pytest.mark.django_db
def test_kmd_staff_see_no_customer_contact_box_on_an_order(client, cast):
    order = make_order(cast, "submitted")
    as_language(client, cast.am_a, "da")
    assert (
        "account-manager-contact" not in client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    )


def test_a_certificate_name_reads_as_holder_organisation_cvr_and_uuid(pki):
    leaf = make_leaf(pki, cvr="31415926", organisation="Lokal IT ApS", common_name="Fraværsoverblik")
    parts = describe_name(leaf.subject.rfc4514_string(_NAME_LABELS))
    assert (parts.holder, parts.organisation, parts.cvr) == ("Fraværsoverblik", "Lokal IT ApS", "31415926")
    assert re.fullmatch(r"[0-9a-f-]{36}", parts.uuid)


@pytest.mark.django_db
def test_the_order_page_shows_the_certificate_holder_and_keeps_the_raw_subject_under_details(
    client, cast, individual_order
):
    order = individual_order("draft")
    as_language(client, cast.orderer_a, "en")
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    summary = body.index('<summary class="details-summary">')
    assert body.index("cert-holder") < summary < body.index("organizationIdentifier=NTRDK-")
