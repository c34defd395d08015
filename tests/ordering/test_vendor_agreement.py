"""Before submitting, the orderer confirms that an agreement with the system's vendor exists; it is recorded."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from core.errors import Invalid
from ordering import services
from ordering.models import AccessOrder
from tests.pages import order_page_text

from ..conftest import facts


@pytest.fixture
def unconfirmed_draft(cast):
    return services.order_create(
        actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast, vendor_agreement_confirmed=False)
    )


def test_a_draft_without_the_vendor_agreement_is_not_submitted(cast, unconfirmed_draft):
    """ "I bør dog ikke igangsætte dette, uden I først har aftalt dette med leverandøren af det eksterne system." """
    with pytest.raises(Invalid) as refusal:
        services.order_submit(order=unconfirmed_draft, actor=cast.orderer_a)
    assert "Aarhus Kommune" in refusal.value.message and "VagtPlan" in refusal.value.message
    order = AccessOrder.objects.get(pk=unconfirmed_draft.pk)
    assert (order.state, order.vendor_agreement_confirmed_at, order.vendor_agreement_confirmed_by) == (
        "draft",
        None,
        None,
    )
    assert not AuditEvent.objects.filter(order=order, kind="submit").exists()


def test_confirming_when_submitting_records_who_and_when(cast, unconfirmed_draft):
    """ "Uanset om det drejer sig om standardintegration eller individuel integration mellem to systemer, har I som
    kunde to leverandører, og det kræver, at I indgår aftale om integration med begge." """
    order = services.order_submit(order=unconfirmed_draft, actor=cast.orderer_a, vendor_agreement_confirmed=True)
    order.refresh_from_db()
    assert order.state == "submitted"
    assert order.vendor_agreement_confirmed_by == cast.orderer_a
    assert order.vendor_agreement_confirmed_at is not None
    assert order.vendor_agreement_confirmed_at <= order.submitted_at


def test_a_confirmation_on_the_draft_stands_and_unticking_it_takes_it_back(cast):
    order = services.order_create(actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast))
    first = order.vendor_agreement_confirmed_at
    assert (order.vendor_agreement_confirmed_by, first is not None) == (cast.orderer_a, True)
    order = services.order_update_draft(order=order, actor=cast.orderer_a, facts=facts(cast, note="Ny note"))
    assert order.vendor_agreement_confirmed_at == first
    order = services.order_update_draft(
        order=order, actor=cast.orderer_a, facts=facts(cast, vendor_agreement_confirmed=False)
    )
    assert (order.vendor_agreement_confirmed_by, order.vendor_agreement_confirmed_at) == (None, None)


def test_the_submit_form_asks_for_the_agreement_and_refuses_without_it(cast, client, unconfirmed_draft):
    client.force_login(cast.orderer_a)
    page = client.get(reverse("ordering:order_detail", args=[unconfirmed_draft.pk])).content.decode()
    assert 'name="vendor_agreement"' in page and "Vagtdata A/S" in page
    url = reverse("ordering:order_transition", args=[unconfirmed_draft.pk, "submit"])
    refused = client.post(url, {"expected_state": "draft"})
    assert refused.status_code == 400
    assert AccessOrder.objects.get(pk=unconfirmed_draft.pk).state == "draft"
    client.post(url, {"expected_state": "draft", "vendor_agreement": "on"})
    assert AccessOrder.objects.get(pk=unconfirmed_draft.pk).state == "submitted"


def test_the_order_page_shows_who_confirmed_the_agreement_and_when(cast, client, order_in):
    page = order_page_text(client, cast.am_a, order_in("submitted"))
    assert "Aftale med leverandøren" in page
    assert f"Bekræftet af {cast.orderer_a.get_full_name()}" in page


def test_a_confirmed_draft_is_not_asked_again(cast, client, order_in):
    order = order_in("draft")
    client.force_login(cast.orderer_a)
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert 'name="vendor_agreement"' not in page
