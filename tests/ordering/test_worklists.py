"""Each role's "Waiting for you", the reason in plain sight, and confirming the irreversible."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from certificates import services as cert_services
from certificates.models import Certificate
from certificates.selectors import certificate_upload_refusal
from certificates.testing import make_leaf, pem
from ordering import services
from ordering.models import AccessOrder
from ordering.selectors import (
    account_manager_queue_page,
    account_manager_worklist,
    orderer_worklist,
    signatory_worklist,
    support_worklist,
    worklist_counts,
    worklists_of,
    worklists_shown,
)
from ordering.transitions import transition_refusal


def queued(user) -> list:
    """The account manager's whole queue (here it fits one page), as the start page reads it."""
    orders, count = account_manager_queue_page(user, 0, 100)
    assert count == len(orders)
    return orders


def counts(lists):
    return {key: n for key, n in worklist_counts(lists).items() if n}


def listed_in(lists) -> dict[str, set[str]]:
    """Each non-empty worklist's orders, by reference: the exact list, what is in and what is out."""
    return {wl.key: {order.reference for order in wl.orders} for wl in lists if wl.orders.exists()}


def asked_prepared(user) -> dict[str, int]:
    """The user's lists as the start page and the menu ask them, with SQL compiled once per process, give what the
    same lists built afresh from the user's values give: the counts, and each list's first orders in order."""
    fresh = worklists_of(user)
    assert worklist_counts(fresh) == worklist_counts(list(fresh))  # a plain list is built by the ORM
    shown = [(wl.key, n, [o.pk for o in first]) for wl, n, first in worklists_shown(fresh, 10)]
    assert shown == [(wl.key, n, [o.pk for o in first]) for wl, n, first in worklists_shown(list(fresh), 10)]
    return {key: n for key, n, _first in shown if n}


def offered_to(user, action: str) -> set[str]:
    """The orders on which the order page offers `user` the action now: the rule the worklists must agree with."""
    return {o.reference for o in AccessOrder.objects.all() if transition_refusal(o, user, action) is None}


def scheduled_closure(order_in, am, **kwargs):
    order = order_in("closure_requested", **kwargs)
    return services.order_schedule_closure(order=order, actor=am, on=timezone.localdate() + timedelta(days=30))


def test_an_orderer_waits_on_drafts_to_submit_and_drafts_kmd_returned_but_not_on_closure_requests(cast, order_in):
    draft = order_in("draft")
    returned = services.order_return_for_changes(
        order=order_in("submitted", codes=("moedetidsplaner",)), actor=cast.am_a, comment="Ret CVR"
    )
    order_in("submitted", codes=("medarbejderoplysninger",))  # waits for KMD
    order_in("closure_requested", environment="test")  # waits for KMD to close or schedule it
    scheduled_closure(order_in, cast.am_a, codes=("moedetidsplaner",), environment="test")  # nothing left to do
    discarded = services.order_discard(order=order_in("draft", codes=("medarbejderoplysninger",)), actor=cast.orderer_a)
    order_in("draft", customer=cast.customer_b)  # another customer's
    assert discarded.state == "withdrawn"
    assert listed_in(orderer_worklist(cast.orderer_a)) == {"returned": {returned.reference}, "draft": {draft.reference}}
    # Exactly the drafts the order page offers to submit.
    assert offered_to(cast.orderer_a, "submit") == {returned.reference, draft.reference}
    assert listed_in(orderer_worklist(cast.signatory_a)) == {}
    assert asked_prepared(cast.orderer_a) == {"returned": 1, "draft": 1}


def test_a_resubmitted_draft_leaves_the_orderers_worklist(cast, order_in):
    returned = services.order_return_for_changes(order=order_in("submitted"), actor=cast.am_a, comment="Ret")
    services.order_submit(order=returned, actor=cast.orderer_a)
    assert counts(orderer_worklist(cast.orderer_a)) == {}


def test_the_orderers_menu_counts_the_draft_and_not_the_scheduled_closure(cast, order_in, client):
    order_in("draft")
    scheduled_closure(order_in, cast.am_a, environment="test")
    client.force_login(cast.orderer_a)
    body = client.get(reverse("home")).content.decode()
    assert 'id="waiting-draft"' in body and 'id="waiting-closure"' not in body
    assert '1<span class="sr-only"> venter på dig</span>' in body


def expires_in(order, days: int) -> None:
    """The order's certificate in use expires `days` from now."""
    current = Certificate.objects.filter(bundle__order=order, bundle__status="current", role=Certificate.Role.LEAF)
    current.update(not_after=timezone.now() + timedelta(days=days))


@pytest.mark.parametrize(("days", "listed"), [(60, True), (61, False)])
def test_a_certificate_is_to_renew_from_60_days_before_it_expires(cast, individual_order, days, listed):
    order = individual_order("active")
    expires_in(order, days)
    assert listed_in(orderer_worklist(cast.orderer_a)) == ({"renew": {order.reference}} if listed else {})
    assert listed_in(support_worklist(cast.support)) == ({"expiring": {order.reference}} if listed else {})


def test_the_orderer_renews_only_where_a_new_certificate_can_be_uploaded_and_none_waits(cast, individual_order, pki):
    active = individual_order("active")
    submitted = individual_order("submitted", codes=("moedetidsplaner",))  # changed once established
    uploaded = individual_order("active", codes=("medarbejderoplysninger",))
    now = timezone.now()
    new = make_leaf(pki, cvr="31415926", not_before=now - timedelta(days=1), not_after=now + timedelta(days=700))
    cert_services.certificate_upload(order=uploaded, actor=cast.orderer_a, data=pem(new, pki.issuing), filename="n.pem")
    lapsed = individual_order("active", codes=("engangsydelser",))
    cert_services.certificate_upload(order=lapsed, actor=cast.orderer_a, data=pem(new, pki.issuing), filename="n.pem")
    Certificate.objects.filter(bundle__order=lapsed, bundle__status="pending").update(not_after=now)
    for order in (active, submitted, uploaded, lapsed):
        expires_in(order, 30)
    # A new certificate that expired before KMD put it into use is the orderer's to upload again.
    assert listed_in(orderer_worklist(cast.orderer_a)) == {"renew": {active.reference, lapsed.reference}}
    # The new certificate waits for the account manager to put it into use.
    assert listed_in(account_manager_worklist(cast.am_a))["rollover"] == {uploaded.reference}
    # The moment and the renewal window's end are the prepared statements' values, as the user's id is.
    assert asked_prepared(cast.orderer_a)["renew"] == 2
    assert asked_prepared(cast.am_a)["rollover"] == 1
    assert asked_prepared(cast.support)["expiring"] == 4
    refusals = {o.reference: certificate_upload_refusal(o, cast.orderer_a) for o in AccessOrder.objects.all()}
    assert refusals[active.reference] is None and refusals[submitted.reference] is not None


def test_a_signatory_waits_on_an_issued_addendum_once_its_document_can_be_read(cast, order_in):
    readable = order_in("awaiting_signature")
    services.addendum_render(readable.addenda.get().pk)
    order_in("awaiting_signature", codes=("medarbejderoplysninger",))  # its document is still being generated
    order_in("provisioning", codes=("moedetidsplaner",))  # accepted already
    declined = order_in("awaiting_signature", codes=("moedetidsplaner",), environment="test")
    services.order_decline(order=declined, actor=cast.signatory_a, comment="Forkert pris", ip="127.0.0.1")
    other = order_in("awaiting_signature", customer=cast.customer_b)
    services.addendum_render(other.addenda.get().pk)
    assert listed_in(signatory_worklist(cast.signatory_a)) == {"sign": {readable.reference}}
    # Exactly the addenda the order page offers to accept (transitions.ACCEPT's precondition).
    assert offered_to(cast.signatory_a, "accept") == {readable.reference}
    assert listed_in(signatory_worklist(cast.orderer_a)) == {}
    assert asked_prepared(cast.signatory_a) == {"sign": 1}


def failed_document(order_in, monkeypatch, **kwargs):
    from ordering import documents

    def broken(html):
        raise RuntimeError("fonts missing")

    order = order_in("awaiting_signature", **kwargs)
    with monkeypatch.context() as patched:
        patched.setattr(documents, "html_to_pdf", broken)
        services.addendum_render(order.addenda.get().pk)
    return order


def test_an_account_manager_waits_on_each_step_of_their_own_customers(cast, order_in, monkeypatch):
    canteen = {"system": cast.canteen, "codes": ("engangsydelser",)}  # the open orders may not overlap
    review = order_in("submitted")
    reissue = order_in("awaiting_signature", codes=("medarbejderoplysninger",))
    services.order_decline(order=reissue, actor=cast.signatory_a, comment="Forkert pris", ip="127.0.0.1")
    failed = failed_document(order_in, monkeypatch, codes=("moedetidsplaner",), environment="test")
    readable = order_in("awaiting_signature", codes=("medarbejderoplysninger",), environment="test")
    services.addendum_render(readable.addenda.get().pk)  # waits for the signatory
    establish = order_in("provisioning", codes=("moedetidsplaner",))
    close = order_in("closure_requested", environment="test")
    scheduled_closure(order_in, cast.am_a, **canteen)  # closes by itself on its date
    order_in("active", environment="test", **canteen)  # waits for no one
    order_in("draft")  # the customer's to submit
    other = order_in("submitted", customer=cast.customer_b)  # another account manager's customer
    assert listed_in(account_manager_worklist(cast.am_a)) == {
        "review": {review.reference},
        "reissue": {reissue.reference},
        "failed": {failed.reference},
        "establish": {establish.reference},
        "close": {close.reference},
    }
    assert listed_in(account_manager_worklist(cast.am_b)) == {"review": {other.reference}}
    assert asked_prepared(cast.am_a) == dict.fromkeys(("review", "reissue", "failed", "establish", "close"), 1)
    assert asked_prepared(cast.am_b) == {"review": 1}
    # The start page's queue holds the same orders.
    waiting = {review, reissue, failed, establish, close}
    assert {o.reference for o in queued(cast.am_a)} == {o.reference for o in waiting}


def test_support_waits_on_emergency_requests_only(cast, order_in, monkeypatch):
    order = order_in("active")
    services.order_request_emergency_closure(order=order, actor=cast.orderer_a, reason="Lækket nøgle")
    done = order_in("active", codes=("moedetidsplaner",))
    services.order_request_emergency_closure(order=done, actor=cast.orderer_a, reason="Lækket nøgle")
    services.order_emergency_close(order=done, actor=cast.support, reason="Lækket nøgle")
    order_in("active", codes=("medarbejderoplysninger",))  # nobody asked
    failed_document(order_in, monkeypatch, environment="test")  # the account manager's to generate again
    assert listed_in(support_worklist(cast.support)) == {"emergency": {order.reference}}
    assert support_worklist(cast.am_a) == []


def test_the_start_page_lists_what_waits_and_the_menu_counts_it(cast, order_in, client):
    order = order_in("awaiting_signature")
    services.addendum_render(order.addenda.get().pk)
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


@pytest.mark.parametrize("who", ["orderer_a", "signatory_a", "am_a", "support"])
def test_the_menus_count_is_one_query_that_reads_no_list_once_per_order(cast, order_in, who):
    """Issue 23: the badge tested every list's condition against every order, with an EXISTS per order on the
    audit trail; at 10,000 orders that one query took most of each page. Now each list is a COUNT of its own
    (UNION ALL), and no list refers back to the order row from a sub-query: those run once, not per order."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    user = getattr(cast, who)
    lists = worklists_of(user)
    assert lists
    with CaptureQueriesContext(connection) as queries:
        worklist_counts(lists)
    (sql,) = [q["sql"] for q in queries.captured_queries]
    assert sql.count("COUNT(") == len(lists)
    assert '= ("ordering_accessorder"."id")' not in sql  # a sub-query correlated with each order
    assert "OuterRef" not in sql and "ordering_accessorder" in sql


def test_only_the_roles_a_user_holds_bring_their_worklists(cast):

    assert {wl.key for wl in worklists_of(cast.am_a)} == {
        "review",
        "reissue",
        "failed",
        "establish",
        "close",
        "rollover",
    }
    assert {wl.key for wl in worklists_of(cast.orderer_a)} == {"returned", "draft", "renew", "sign"}


def test_the_indexes_answer_the_worklists_sub_queries(cast, order_in):
    """Issue 23: at 10,000 orders the 'latest action' sub-query read the whole audit trail and the 'failed' list
    every addendum. The latest action is now the order's own column (AccessOrder.last_action): no worklist reads
    the audit trail. The 'failed' list's plan names the index made for it (sequential scans are switched off on
    PostgreSQL so that a tiny test table does not hide whether the index fits the query)."""
    from django.db import connection

    order_in("submitted")
    lists = {wl.key: wl for wl in worklists_of(cast.am_a) + worklists_of(cast.orderer_a)}
    for key, wl in lists.items():
        assert "audit_auditevent" not in str(AccessOrder.objects.filter(wl.condition).query), key
    wanted = {"failed": "addendum_issued_by_render"}
    with connection.cursor() as cursor:
        for key, index in wanted.items():
            sql, params = AccessOrder.objects.filter(lists[key].condition).values("pk").query.sql_with_params()
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN {sql}", params)
            else:
                cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = "\n".join(str(row) for row in cursor.fetchall())
            assert index in plan, (key, plan)


def test_supports_emergency_list_is_read_from_its_own_index(cast, order_in):
    """The few orders whose customer asked for an emergency closure, among many running accesses: read from the
    partial index made for them, not by scanning every order on each of support's pages. The statistics are made
    first (ANALYZE), as the database keeps them; on a tiny table the planner could take any index of the state."""
    from django.db import connection

    from ordering.selectors import support_worklist

    running = order_in("active")
    fields = {f.attname: getattr(running, f.attname) for f in AccessOrder._meta.concrete_fields}
    AccessOrder.objects.bulk_create([AccessOrder(**{**fields, "id": None}) for _ in range(300)])
    AccessOrder.objects.filter(pk=running.pk).update(emergency_requested_at=timezone.now())
    emergency = next(wl for wl in support_worklist(cast.support) if wl.key == "emergency")
    sql, params = AccessOrder.objects.filter(emergency.condition).values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(("EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN ") + sql, params)
        plan = "\n".join(str(row) for row in cursor.fetchall())
    assert "order_emergency_requested" in plan, plan
    assert list(AccessOrder.objects.filter(emergency.condition).values_list("pk", flat=True)) == [running.pk]


def test_supports_running_accesses_are_paged_by_customer_name_without_sorting_every_order(cast, order_in):
    """Support's table of running accesses is in the customers' names' order: the database reads the customers in
    that order (customer_by_name) and each one's orders from its own index, and stops at the page's end, instead
    of joining and sorting every running access (at 10,000 orders, 4.7 → 1.4 ms)."""
    from django.db import connection

    from ordering.models import Customer
    from ordering.selectors import support_accesses

    if connection.vendor != "postgresql":
        pytest.skip("an incremental sort is PostgreSQL's plan; SQLite's own is tested by the page's tests")
    running = order_in("active")
    fields = {f.attname: getattr(running, f.attname) for f in AccessOrder._meta.concrete_fields}
    customers = Customer.objects.bulk_create(
        Customer(name=f"Kommune {i:02}", cvr=f"{40000000 + i}", ean=f"{5790000000000 + i}", account_manager=cast.am_a)
        for i in range(30)
    )
    AccessOrder.objects.bulk_create(
        [AccessOrder(**{**fields, "id": None, "customer_id": c.pk}) for c in customers for _ in range(20)]
    )
    sql, params = support_accesses(cast.support).values_list("pk", flat=True)[:25].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "customer_by_name" in plan and "Incremental Sort" in plan, plan
    first = list(support_accesses(cast.support).values_list("customer__name", "pk")[:25])
    assert first == sorted(first) and [name for name, _pk in first[:2]] == ["Aarhus Kommune", "Kommune 00"]


def test_the_start_page_reads_every_lists_count_and_first_orders_in_two_queries_with_only_what_it_names(
    cast, order_in, client, django_assert_num_queries
):
    """Issue 23: each worklist's first orders were a query of their own, as dear as the counts again per list.
    Now one query finds every list's first ids (and so its count) and one reads the orders shown, with the names
    the start page shows and nothing else: the same orders in the same order as the whole list's."""
    order_in("draft")
    order_in("submitted", codes=("moedetidsplaner",))
    order_in("submitted", codes=("medarbejderoplysninger",))
    running = order_in("active", codes=("opret-fravaer",))
    AccessOrder.objects.filter(pk=running.pk).update(emergency_requested_at=timezone.now())  # support's list
    for user in (cast.am_a, cast.orderer_a, cast.support):
        lists = worklists_of(user)
        with django_assert_num_queries(2):  # however many lists hold orders, and however many orders
            shown = worklists_shown(lists, 10)
        counts = worklist_counts(lists)
        assert [(wl.key, count) for wl, count, _orders in shown] == [(wl.key, counts[wl.key]) for wl in lists]
        assert sum(counts.values()) >= 1, user
        for wl, _count, first in shown:
            assert [o.pk for o in first] == [o.pk for o in wl.orders[:10]], wl.key
            with django_assert_num_queries(0):
                named = [
                    (o.reference, o.customer.name, o.external_system.name, o.external_system.vendor.name) for o in first
                ]
            assert len(named) == len(first)
    first_only = {wl.key: (count, orders) for wl, count, orders in worklists_shown(worklists_of(cast.am_a), 1)}
    assert [(count, len(orders)) for count, orders in [first_only["review"]]] == [(2, 1)]  # counted, one shown
    client.force_login(cast.am_a)
    body = client.get(reverse("home")).content.decode()
    review = body.split('id="waiting-review"')[1].split("</ul>")[0]
    assert review.count("<li>") == 2 and cast.customer_a.name in review and cast.rostering.name in review


def test_a_start_page_with_nothing_waiting_asks_one_query_for_its_lists(cast, django_assert_num_queries):
    lists = worklists_of(cast.signatory_a)
    with django_assert_num_queries(1):
        shown = worklists_shown(lists, 10)
    assert [(count, orders) for _wl, count, orders in shown] == [(0, [])] * len(lists)
