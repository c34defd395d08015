"""Each role's "Waiting for you", the reason in plain sight, and confirming the irreversible."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from certificates import services as cert_services
from certificates.testing import make_leaf, pem
from ordering import services
from ordering.models import AccessOrder
from ordering.selectors import (
    account_manager_worklist,
    orderer_worklist,
    signatory_worklist,
    support_worklist,
    worklist_counts,
)
from tests.conftest import make_order


def counts(lists):
    return {key: n for key, n in worklist_counts(lists).items() if n}


def test_an_orderer_waits_on_a_returned_draft_and_a_closure_request(cast, order_in):
    order_in("draft")  # never submitted: nothing to act on
    returned = services.order_return_for_changes(order=order_in("submitted"), actor=cast.am_a, comment="Ret CVR")
    order_in("closure_requested")
    assert counts(orderer_worklist(cast.orderer_a)) == {"returned": 1, "closure": 1}
    assert list(orderer_worklist(cast.orderer_a)[0].orders) == [returned]
    assert counts(orderer_worklist(cast.orderer_b)) == {}


def test_a_resubmitted_draft_leaves_the_orderers_worklist(cast, order_in):
    returned = services.order_return_for_changes(order=order_in("submitted"), actor=cast.am_a, comment="Ret")
    services.order_submit(order=returned, actor=cast.orderer_a)
    assert counts(orderer_worklist(cast.orderer_a)) == {}


@pytest.mark.parametrize(("days", "listed"), [(60, True), (61, False)])
def test_a_certificate_is_to_renew_from_60_days_before_it_expires(cast, trusted_test_environment, pki, days, listed):
    now = timezone.now()
    leaf = make_leaf(pki, cvr="31415926", not_before=now - timedelta(days=900), not_after=now + timedelta(days=days))
    order = make_order(cast, "draft", system=cast.own_system, environment="test")
    cert_services.certificate_upload(order=order, actor=cast.orderer_a, data=pem(leaf, pki.issuing), filename="k.pem")
    services.order_submit(order=order, actor=cast.orderer_a)
    expected = {"renew": 1} if listed else {}
    assert counts(orderer_worklist(cast.orderer_a)) == expected
    assert counts(support_worklist(cast.support)) == ({"expiring": 1} if listed else {})


def test_a_signatory_waits_on_an_issued_addendum(cast, order_in):
    order_in("awaiting_signature")
    order_in("provisioning", codes=("moedetidsplaner",))
    assert counts(signatory_worklist(cast.signatory_a)) == {"sign": 1}
    assert counts(signatory_worklist(cast.orderer_a)) == {}


def test_an_account_manager_waits_on_each_step_of_their_own_customers(cast, order_in):
    order_in("submitted")
    declined = order_in("awaiting_signature", codes=("medarbejderoplysninger",))
    services.order_decline(order=declined, actor=cast.signatory_a, comment="Forkert pris", ip="127.0.0.1")
    order_in("provisioning", codes=("moedetidsplaner",))
    order_in("closure_requested", environment="test")
    order_in("submitted", customer=cast.customer_b)
    assert counts(account_manager_worklist(cast.am_a)) == {"review": 1, "reissue": 1, "establish": 1, "close": 1}


def test_support_waits_on_emergency_requests(cast, order_in):
    order = order_in("active")
    services.order_request_emergency_closure(order=order, actor=cast.orderer_a, reason="Lækket nøgle")
    assert counts(support_worklist(cast.support)) == {"emergency": 1}
    assert support_worklist(cast.am_a) == []


def test_the_start_page_lists_what_waits_and_the_menu_counts_it(cast, order_in, client):
    order = order_in("awaiting_signature")
    client.force_login(cast.signatory_a)
    body = client.get(reverse("home")).content.decode()
    assert 'id="waiting-sign"' in body and order.reference in body
    body = client.get(reverse("ordering:catalogue")).content.decode()
    assert '1<span class="sr-only"> venter på dig</span>' in body


def test_the_orderer_sees_kmds_reason_at_the_top_and_a_tag_in_the_list(cast, order_in, client):
    order = services.order_return_for_changes(order=order_in("submitted"), actor=cast.am_a, comment="Ret CVR-nummeret")
    client.force_login(cast.orderer_a)
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    alert = body[body.index('id="reason"') : body.index("</div></div>", body.index('id="reason"'))]
    assert "Returneret af KMD" in alert and "Ret CVR-nummeret" in alert and cast.am_a.get_full_name() in alert
    assert body.index('id="reason"') < body.index('class="timeline"')
    listed = client.get(reverse("ordering:order_list")).content.decode()
    assert "Returneret af KMD" in listed


def test_the_account_manager_sees_the_customers_decline_reason(cast, order_in, client):
    order = order_in("awaiting_signature")
    services.order_decline(order=order, actor=cast.signatory_a, comment="Forkert pris", ip="127.0.0.1")
    client.force_login(cast.am_a)
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert 'id="reason"' in body and "Afvist af kunden" in body and "Forkert pris" in body
    client.force_login(cast.signatory_a)  # the signatory gave it; nothing for them to act on
    assert 'id="reason"' not in client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()


def test_an_irreversible_action_offers_a_modal_stating_the_consequence(cast, order_in, client):
    order = order_in("submitted")
    client.force_login(cast.orderer_a)
    body = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    assert 'data-confirm-modal="confirm-withdraw"' in body
    assert 'id="confirm-withdraw"' in body and 'form="action-withdraw" name="confirmed" value="1"' in body


def test_without_javascript_withdrawing_asks_on_a_page_and_acts_only_after_confirming(cast, order_in, client):
    order = order_in("submitted")
    client.force_login(cast.orderer_a)
    url = reverse("ordering:order_transition", args=[order.pk, "withdraw"])
    page = client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()
    token = page.split('name="form_token" value="')[1].split('"')[0]
    asked = client.post(url, {"expected_state": "submitted", "comment": "Fejl", "form_token": token})
    assert asked.status_code == 200
    assert "Det kan ikke fortrydes." in asked.content.decode()
    assert AccessOrder.objects.get(pk=order.pk).state == "submitted"
    assert not AuditEvent.objects.filter(order=order, kind="withdraw").exists()
    done = client.post(url, dict(asked.context["posted"]) | {"confirmed": "1"}, follow=True)
    assert AccessOrder.objects.get(pk=order.pk).state == "withdrawn"
    assert [str(m) for m in done.context["messages"]] == ["Bestillingen er trukket tilbage."]


def listed(client, url: str) -> set[str]:
    """The order numbers in the order list's table at `url`."""
    body = client.get(url).content.decode()
    return set(re.findall(r"OA-\d{6}", body[body.index("<table") : body.index("</table>")]))


def test_each_worklists_see_all_link_lists_exactly_its_orders(cast, order_in, client):
    order_in("submitted")
    order_in("submitted", codes=("moedetidsplaner",), environment="test")
    declined = order_in("awaiting_signature", codes=("medarbejderoplysninger",))
    services.order_decline(order=declined, actor=cast.signatory_a, comment="Forkert pris", ip="127.0.0.1")
    order_in("provisioning", codes=("moedetidsplaner",))
    order_in("closure_requested", environment="test")
    order_in("active", codes=("medarbejderoplysninger",), environment="test")  # waits for no one
    order_in("submitted", customer=cast.customer_b)  # another account manager's customer
    client.force_login(cast.am_a)
    home = client.get(reverse("home")).content.decode()
    lists = [wl for wl in account_manager_worklist(cast.am_a) if wl.orders.exists()]
    assert {wl.key for wl in lists} == {"review", "reissue", "establish", "close"}
    for worklist in lists:
        url = f"{reverse('ordering:order_list')}?waiting={worklist.key}"
        assert f'href="{url}"' in home
        assert listed(client, url) == {order.reference for order in worklist.orders}, worklist.key
    assert len(listed(client, f"{reverse('ordering:order_list')}?waiting=review")) == 2


def test_an_orderers_see_all_link_lists_the_drafts_kmd_returned(cast, order_in, client):
    returned = services.order_return_for_changes(order=order_in("submitted"), actor=cast.am_a, comment="Ret CVR")
    order_in("draft", codes=("moedetidsplaner",))
    client.force_login(cast.orderer_a)
    assert "Se alle" in client.get(reverse("home")).content.decode()
    assert listed(client, f"{reverse('ordering:order_list')}?waiting=returned") == {returned.reference}


def test_a_worklist_the_user_does_not_have_filters_nothing(cast, order_in, client):
    mine = {order_in("submitted").reference, order_in("draft", codes=("moedetidsplaner",)).reference}
    client.force_login(cast.orderer_a)
    assert listed(client, f"{reverse('ordering:order_list')}?waiting=review") == mine
