"""The pages each role works in, and their cost in queries."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from ordering import services
from ordering.models import AccessOrder, CustomerMembership, State
from tests.pages import post_action, post_new_order

# Session and user, the roles, the worklists' first ids with their counts, the state counts, the page's ids, the
# memberships (may they order, the customers' account managers), the page's orders and the worklists' orders.
QUERIES_OF_THE_ORDERERS_START_PAGE = 9


def page(client, user, url, **params):
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def test_an_orderer_sees_their_orders_by_state_and_can_order(cast, order_in, client):
    order_in("submitted")
    order_in("draft", system=cast.canteen, codes=("engangsydelser",))
    body = page(client, cast.orderer_a, reverse("home"))
    assert reverse("ordering:order_create") in body
    assert "state=submitted" in body and "state=draft" in body


@pytest.mark.parametrize(("state", "last_page", "rows_on_it"), [("", 3, 1), ("draft", 2, 1), ("submitted", 1, 2)])
def test_the_orderers_start_page_counts_its_pages_from_the_state_counts(
    cast, order_in, client, monkeypatch, django_assert_num_queries, state, last_page, rows_on_it
):
    """Pages of 2: three drafts and two submitted orders are 3 pages, the drafts alone 2, the submitted 1. Counted
    by the state counts the page shows anyway, not by a COUNT of its own."""
    monkeypatch.setattr("ordering.views.PAGE_SIZE", 2)
    for _ in range(3):
        order_in("draft")
    order_in("submitted")
    order_in("submitted", system=cast.canteen, codes=("engangsydelser",))
    params = {"state": state} if state else {}
    client.force_login(cast.orderer_a)
    client.get(reverse("home"), params)  # the session's first page writes its login time
    with django_assert_num_queries(QUERIES_OF_THE_ORDERERS_START_PAGE):
        body = client.get(reverse("home"), {**params, "page": last_page}).content.decode()
    section = body.split('id="customer-heading"')[1].split("</section>")[0]
    assert section.count("<tr>") == 1 + rows_on_it  # the heading's row and the orders'
    assert (f"Side {last_page} af {last_page}" in section) is (last_page > 1)


def test_a_person_at_two_customers_counts_each_order_once(cast, order_in, client):
    """The state counts are COUNT(*) over the person's customers' orders (an IN, so no order comes twice)."""
    CustomerMembership.objects.create(user=cast.orderer_a, customer=cast.customer_b, is_orderer=True)
    order_in("draft")
    order_in("draft", customer=cast.customer_b)
    order_in("submitted", customer=cast.customer_b)
    body = page(client, cast.orderer_a, reverse("home"))
    assert re.search(r"state=draft[^>]*>[^<]*\(2\)", body), "two drafts, one at each customer"
    assert re.search(r"state=submitted[^>]*>[^<]*\(1\)", body)
    assert "Side 1 af" not in body  # three orders: one page


def test_the_start_page_names_each_customers_account_manager_and_offers_ordering_to_an_orderer_only(cast, client):
    body = page(client, cast.signatory_a, reverse("home"))
    assert reverse("ordering:order_create") not in body  # a signatory does not order
    contacts = body.split('class="account-manager-contact"')[1:]
    assert len(contacts) == 1 and cast.am_a.email in contacts[0] and cast.customer_a.name not in contacts[0]
    CustomerMembership.objects.create(user=cast.signatory_a, customer=cast.customer_b, is_orderer=True)
    body = page(client, cast.signatory_a, reverse("home"))
    assert reverse("ordering:order_create") in body  # an orderer at one customer of two
    contacts = body.split('class="account-manager-contact"')[1:]
    names = sorted([(cast.customer_a.name, cast.am_a.email), (cast.customer_b.name, cast.am_b.email)])
    assert len(contacts) == 2
    for contact, (customer, email) in zip(contacts, names, strict=True):  # by customer name, each named
        assert contact.startswith(f">{customer}: ") and email in contact.split("</li>")[0]


def test_the_account_manager_queue_holds_what_waits_for_them_across_customers(cast, order_in, client):
    waiting = order_in("submitted")
    not_waiting = order_in("awaiting_signature", system=cast.canteen, codes=("engangsydelser",))
    body = page(client, cast.am_a, reverse("home"))
    assert waiting.reference in body
    assert not_waiting.reference not in body


def test_the_account_managers_queue_is_paged_oldest_submission_first(cast, order_in, client, monkeypatch):
    """Pages of 2: three orders waiting at three different steps; the one submitted last is alone on page 2."""
    monkeypatch.setattr("ordering.views.PAGE_SIZE", 2)
    waiting = [
        order_in("submitted"),
        order_in("provisioning", codes=("medarbejderoplysninger",)),
        order_in("closure_requested", system=cast.canteen, codes=("engangsydelser",)),
    ]
    for days, order in zip((3, 2, 1), waiting, strict=True):  # submitted 3, 2 and 1 days ago
        AccessOrder.objects.filter(pk=order.pk).update(submitted_at=timezone.now() - timedelta(days=days))
    first = page(client, cast.am_a, reverse("home")).split('id="queue-heading"')[1].split("</section>")[0]
    second = page(client, cast.am_a, reverse("home"), queue_page=2).split('id="queue-heading"')[1]
    second = second.split("</section>")[0]
    assert [o.reference in first for o in waiting] == [True, True, False]
    assert [o.reference in second for o in waiting] == [False, False, True]
    assert "Side 1 af 2" in first and "Side 2 af 2" in second


@pytest.mark.parametrize(("number", "shown"), [(1, "Side 1 af 2+"), (2, "Side 2 af 3+"), (3, "Side 3 af 3")])
def test_the_queue_is_counted_only_so_many_pages_past_the_one_shown(cast, order_in, client, monkeypatch, number, shown):
    """Pages of 1, counted one page past the one shown: three orders waiting. Page 1 reads two of them and says there
    are at least 2 pages; page 2 reads three, one more than it counts, so at least 3; page 3 reads all three and
    knows it is the last. Each page offers the next one while more may follow."""
    monkeypatch.setattr("ordering.views.PAGE_SIZE", 1)
    monkeypatch.setattr("ordering.views.QUEUE_PAGES_COUNTED", 1)
    waiting = [
        order_in("submitted", codes=(code,)) for code in ("opret-fravaer", "medarbejderoplysninger", "moedetidsplaner")
    ]
    for days, order in zip((3, 2, 1), waiting, strict=True):
        AccessOrder.objects.filter(pk=order.pk).update(submitted_at=timezone.now() - timedelta(days=days))
    queue = page(client, cast.am_a, reverse("home"), queue_page=number).split('id="queue-heading"')[1]
    queue = queue.split("</section>")[0]
    assert shown in queue and f"{shown}+" not in queue
    assert [o.reference in queue for o in waiting] == [n == number for n in (1, 2, 3)]
    assert (f"queue_page={number + 1}" in queue) is (number < 3)


@pytest.mark.parametrize(
    ("asked", "shown"),
    [("3", 2), ("9", 2), ("100000", 2), ("100001", 2), (str(10**30), 2), ("0", 1), ("-1", 1), ("x", 1), ("", 1)],
)
def test_a_queue_page_that_is_no_page_shows_the_first_or_the_last(cast, order_in, client, monkeypatch, asked, shown):
    """Pages of 2 of three orders waiting: page 2 is the last; a page past it shows the last, and a number that
    is no page the first (as the order lists do)."""
    monkeypatch.setattr("ordering.views.PAGE_SIZE", 2)
    for codes in (("opret-fravaer",), ("medarbejderoplysninger",), ("moedetidsplaner",)):
        order_in("submitted", codes=codes)
    queue = page(client, cast.am_a, reverse("home"), queue_page=asked).split('id="queue-heading"')[1]
    queue = queue.split("</section>")[0]
    assert f"Side {shown} af 2" in queue
    assert queue.count("<tr>") == 1 + (2 if shown == 1 else 1)  # the heading's row, then the page's orders


def test_the_queue_asks_its_page_and_count_in_one_query_without_counting_every_order(cast, order_in, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order_in("submitted")
    client.force_login(cast.am_a)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("home")).status_code == 200
    sqls = [q["sql"] for q in queries.captured_queries]
    assert not any(sql.startswith("SELECT COUNT(*)") for sql in sqls), "a COUNT of its own"
    (united,) = [sql for sql in sqls if "COUNT(*) OVER ()" in sql]
    assert united.count("UNION ALL") == 5  # the six worklists, each planned on its own


def test_support_searches_live_accesses(cast, order_in, client):
    active = order_in("active")
    other = order_in("active", customer=cast.customer_b, system=cast.canteen, codes=("engangsydelser",))
    order_in("submitted", system=cast.canteen, codes=("engangsydelser",))
    body = page(client, cast.support, reverse("home"), q="Odense")
    assert other.reference in body and active.reference not in body
    body = page(client, cast.support, reverse("home"), q=active.reference)
    assert active.reference in body and other.reference not in body


def test_support_finds_an_access_by_its_requisition_number_as_the_order_lists_do(cast, order_in, client):
    wanted = order_in("active", requisition_number="REK-2026-117")
    other = order_in("active", requisition_number="REK-2026-118", customer=cast.customer_b)
    body = page(client, cast.support, reverse("home"), q="rek-2026-117")
    assert wanted.reference in body and other.reference not in body


def test_support_search_answers_htmx_with_only_the_table(cast, order_in, client):
    order_in("active")
    client.force_login(cast.support)
    response = client.get(reverse("home"), {"q": "Aarhus", "target": "support"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<table" in body and "<html" not in body


def test_support_search_as_typed_reads_only_its_table(cast, order_in, client, django_assert_max_num_queries):
    # Each keystroke is a request: the session, the user, and the table's count, ids and rows; nothing of the
    # worklists, the emergency requests or the dead letters around it on the start page.
    found = order_in("active")
    client.force_login(cast.support)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("home"), {"q": found.reference, "target": "support"}, HTTP_HX_REQUEST="true")
    assert found.reference in response.content.decode()


def test_the_detail_page_offers_only_what_this_user_may_do_now(cast, order_in, client):
    order = order_in("active")
    url = reverse("ordering:order_detail", args=[order.pk])
    orderer_view = page(client, cast.orderer_a, url)
    assert reverse("ordering:order_transition", args=[order.pk, "request_closure"]) in orderer_view
    assert "emergency_close" not in orderer_view
    support_view = page(client, cast.support, url)
    assert reverse("ordering:order_transition", args=[order.pk, "emergency_close"]) in support_view
    assert "request_closure" not in support_view
    signatory_view = page(client, cast.signatory_a, url)
    assert "/actions/" not in signatory_view


def test_the_timeline_shows_every_event_with_its_comment(cast, order_in, client):
    order = order_in("rejected")
    body = page(client, cast.orderer_a, reverse("ordering:order_detail", args=[order.pk]))
    assert body.count('class="timeline"') == 1
    assert "Nej" in body  # the rejection reason


def test_emergency_close_from_the_page_needs_reason_and_confirmation(cast, order_in, client):
    order = order_in("active")
    client.force_login(cast.support)
    url = reverse("ordering:order_transition", args=[order.pk, "emergency_close"])
    response = client.post(url, {"expected_state": "active", "comment": "Lækket nøgle"})
    assert response.status_code == 400
    assert AccessOrder.objects.get(pk=order.pk).state == "active"
    response = client.post(url, {"expected_state": "active", "comment": "", "confirm": "on"})
    assert response.status_code == 400
    response = client.post(url, {"expected_state": "active", "comment": "Lækket nøgle", "confirm": "on"})
    assert response.status_code == 302
    order = AccessOrder.objects.get(pk=order.pk)
    assert (order.state, order.emergency_reason) == ("emergency_closed", "Lækket nøgle")


def test_an_action_posted_from_an_outdated_page_is_refused_with_an_explanation(cast, order_in, client):
    order = order_in("submitted")
    response = post_action(
        client, cast.am_a, order, "reject", {"expected_state": "draft", "comment": "Nej"}, follow=True
    )
    assert AccessOrder.objects.get(pk=order.pk).state == "submitted"
    assert any("changed" in str(m) or "ændret" in str(m) for m in response.context["messages"])


def test_a_refused_action_shows_the_reason_and_keeps_the_order(cast, order_in, client):
    order_in("active")
    draft = order_in("draft")
    client.force_login(cast.orderer_a)
    response = client.post(
        reverse("ordering:order_transition", args=[draft.pk, "submit"]), {"expected_state": "draft"}, follow=True
    )
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and "OA-" in messages[0]
    assert AccessOrder.objects.get(pk=draft.pk).state == "draft"


def test_orderer_creates_and_submits_an_order_through_the_pages(cast, client):
    response = post_new_order(
        client,
        cast,
        system=cast.rostering,
        codes=("opret-fravaer", "moedetidsplaner"),
        environment="test",
        reason="new",
    )
    order = AccessOrder.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("ordering:order_detail", args=[order.pk])
    # The draft has no agreement with the vendor yet: submitting asks for it.
    client.post(
        reverse("ordering:order_transition", args=[order.pk, "submit"]),
        {"expected_state": "draft", "vendor_agreement": "on"},
    )
    assert AccessOrder.objects.get().state == "submitted"


def test_the_order_form_shows_service_errors_on_their_fields(cast, client):
    client.force_login(cast.orderer_a)
    response = client.post(
        reverse("ordering:order_create"),
        {"external_system": cast.rostering.pk, "purchase_model": "single", "environment": "test", "reason": "new"},
    )
    assert response.status_code == 400
    assert "interfaces" in response.context["form"].errors
    assert not AccessOrder.objects.exists()


def test_the_order_form_preview_explains_the_integration_type(cast, client):
    client.force_login(cast.orderer_a)
    response = client.get(
        reverse("ordering:order_form_preview"),
        {
            "external_system": cast.rostering.pk,
            "purchase_model": "single",
            "interfaces": [cast.interfaces["engangsydelser"].pk],
        },
    )
    body = response.content.decode()
    assert "VagtPlan" in body and "Vagtplanpakke" in body
    assert ("Individual integration" in body) or ("Individuel integration" in body)


def test_the_catalogue_lists_interfaces_packages_and_standard_systems(cast, client):
    body = page(client, cast.orderer_a, reverse("ordering:catalogue"))
    for text in ["Opret Fravær", "IND01", "Vagtplanpakke", "VagtPlan", "KantineKort"]:
        assert text in body
    assert "Eget værktøj" not in body  # a customer's own system is not in the catalogue


def test_pages_forbid_inline_scripts(cast, client):
    client.force_login(cast.orderer_a)
    response = client.get(reverse("home"))
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<script>" not in response.content.decode()


def test_the_ui_is_danish_by_default_and_english_on_request(cast, client):
    client.force_login(cast.orderer_a)
    danish = client.get(reverse("ordering:catalogue")).content.decode()
    assert 'lang="da"' in danish and "Katalog" in danish
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.get(reverse("ordering:catalogue")).content.decode()
    assert 'lang="en"' in english and "Catalogue" in english


# --- Query counts: constant however many orders exist ------------------------------------------


def bulk_orders(cast, n: int, state: str, customer=None) -> None:
    customer = customer or cast.customer_a
    now = timezone.now()
    orders = AccessOrder.objects.bulk_create(
        [
            AccessOrder(
                customer=customer,
                external_system=cast.rostering,
                purchase_model="single",
                environment="production",
                integration_type="standard",
                state=state,
                created_by=cast.orderer_a,
                created_at=now,
                submitted_at=now,
            )
            for _ in range(n)
        ]
    )
    AccessOrder.interfaces.through.objects.bulk_create(
        [AccessOrder.interfaces.through(accessorder=o, interface=cast.interfaces["opret-fravaer"]) for o in orders]
    )


def count_queries(client, url, django_assert_max_num_queries, **params):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    ("who", "url", "state", "params"),
    [
        ("orderer_a", "home", State.SUBMITTED, {}),
        ("orderer_a", "home", State.DRAFT, {}),
        ("orderer_a", "home", State.SUBMITTED, {"state": "submitted"}),
        ("am_a", "home", State.SUBMITTED, {}),
        ("am_a", "home", State.PROVISIONING, {}),
        ("signatory_a", "home", State.AWAITING_SIGNATURE, {}),
        ("orderer_a", "home", State.CLOSURE_REQUESTED, {}),
        ("support", "home", State.ACTIVE, {}),
        ("support", "home", State.ACTIVE, {"q": "Aarhus"}),
        ("orderer_a", "ordering:order_list", State.ACTIVE, {}),
        ("am_a", "ordering:order_list", State.ACTIVE, {"state": "active"}),
        ("support", "ordering:order_list", State.ACTIVE, {}),
        ("am_a", "ordering:order_list", State.ACTIVE, {"page": "20"}),
        ("orderer_a", "ordering:order_list", State.ACTIVE, {"page": "3"}),
        ("am_a", "ordering:order_list", State.ACTIVE, {"q": "VagtPlan", "environment": "production"}),
        ("support", "ordering:order_list", State.ACTIVE, {"sort": "-waiting", "created_from": "2020-01-01"}),
        ("orderer_a", "ordering:order_list", State.ACTIVE, {"sort": "changed", "page": "2"}),
        ("am_a", "ordering:order_list", State.ACTIVE, {"sort": "customer", "state": "active"}),
    ],
)
def test_list_pages_cost_the_same_queries_for_5_and_500_orders(
    cast, client, django_assert_max_num_queries, who, url, state, params
):
    client.force_login(getattr(cast, who))
    bulk_orders(cast, 5, state)
    few = count_queries(client, reverse(url), django_assert_max_num_queries, **params)
    bulk_orders(cast, 495, state)
    bulk_orders(cast, 50, state, customer=cast.customer_b)
    many = count_queries(client, reverse(url), django_assert_max_num_queries, **params)
    assert few == many
    # The start page adds "Waiting for you": one query counts every list, one reads each non-empty list.
    assert many <= (13 if url == "home" else 12)


def test_the_detail_page_costs_the_same_queries_however_long_the_history(cast, order_in, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = order_in("awaiting_signature")
    client.force_login(cast.am_a)
    url = reverse("ordering:order_detail", args=[order.pk])
    with CaptureQueriesContext(connection) as short:
        client.get(url)
    for i in range(10):
        order = services.order_revise(order=order, actor=cast.am_a, comment=f"v{i + 2}")
    assert AuditEvent.objects.filter(order=order).count() > 10
    with CaptureQueriesContext(connection) as long:
        client.get(url)
    assert len(short.captured_queries) == len(long.captured_queries)


@pytest.mark.parametrize("who", ["am_a", "orderer_a"])
def test_the_detail_page_costs_the_same_queries_however_many_orders_the_customer_has(cast, order_in, client, who):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = order_in("active")
    client.force_login(getattr(cast, who))
    url = reverse("ordering:order_detail", args=[order.pk])
    bulk_orders(cast, 2, State.ACTIVE)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    bulk_orders(cast, 300, State.ACTIVE)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(few.captured_queries) == len(many.captured_queries)
    # The page asks for the user's roles many times; the membership is read once a request.
    memberships = [q for q in many.captured_queries if q["sql"].startswith('SELECT "ordering_customermembership"')]
    assert len(memberships) == 1


# Each read on the order page is a query's SQL compiled and run (about 0.5-1 ms of Python apart from the database):
# the price list with its prices, the contract with its lines, the interfaces, the requests for help and the people
# the page names are each read once. Exact, so that a read added again fails here.
@pytest.mark.parametrize(
    ("who", "state", "queries"),
    [
        # The live quote, and the account manager's tools: 32 and 30 queries before each was read once, 22 and 21
        # before the startup package was read only for an order that bought one.
        ("am_a", State.SUBMITTED, 21),
        ("orderer_a", State.SUBMITTED, 20),
        # The quote frozen in the addendum, found among the versions the page lists: 20 queries before, then 16.
        ("orderer_a", State.AWAITING_SIGNATURE, 15),
    ],
)
def test_the_order_page_reads_each_thing_once(cast, order_in, client, who, state, queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ordering.consulting import consulting_request_create

    order = order_in(state)
    consulting_request_create(
        actor=cast.orderer_a, customer=cast.customer_a, order=order, kind="reactive", message="Hjælp til opsætning."
    )
    client.force_login(getattr(cast, who))
    url = reverse("ordering:order_detail", args=[order.pk])
    client.get(url)  # the session's first request writes it
    with CaptureQueriesContext(connection) as read:
        response = client.get(url)
    assert response.status_code == 200
    assert len(read.captured_queries) == queries, "\n".join(q["sql"][:120] for q in read.captured_queries)


def test_a_deep_page_lists_its_own_orders_newest_first(cast, client):
    bulk_orders(cast, 30, State.ACTIVE)  # created in the same instant: the newer order is the later one
    body = page(client, cast.am_a, reverse("ordering:order_list"), page=2)
    first_made = list(AccessOrder.objects.order_by("pk"))
    shown = [o for o in first_made if o.reference in body]
    assert shown == first_made[:5]
    assert [body.index(o.reference) for o in reversed(shown)] == sorted(body.index(o.reference) for o in shown)


def test_an_english_browser_still_gets_danish_until_the_user_switches(cast, client):
    client.force_login(cast.orderer_a)
    body = client.get(reverse("ordering:catalogue"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="da"' in body


def test_support_reaches_emergency_close_straight_from_the_list(cast, order_in, client):
    order = order_in("active")
    body = page(client, cast.support, reverse("home"))
    assert reverse("ordering:order_detail", args=[order.pk]) + "#action-emergency_close" in body
    detail = page(client, cast.support, reverse("ordering:order_detail", args=[order.pk]))
    assert 'id="action-emergency_close"' in detail


def test_supports_start_page_shows_the_first_emergency_requests_and_links_the_rest(cast, order_in, client, monkeypatch):
    """Issue 23: the alert listed every open request (a hundred rows at 10,000 orders): now the first, oldest first,
    each with its reason, and a link to all of them past that."""
    monkeypatch.setattr("ordering.views.WORKLIST_SHOWN", 2)
    asked = []
    for codes in (("opret-fravaer",), ("medarbejderoplysninger",), ("moedetidsplaner",)):
        order = order_in("active", codes=codes)
        services.order_request_emergency_closure(order=order, actor=cast.orderer_a, reason=f"Lækket nøgle {codes[0]}")
        asked.append(order)
        alert = page(client, cast.support, reverse("home")).split('id="emergency-requests-heading"')[1]
        alert = alert.split("</div></div>")[0]
        shown = asked[:2]  # the oldest requests first
        assert all(reverse("ordering:order_detail", args=[o.pk]) + "#action-emergency_close" in alert for o in shown)
        assert alert.count("#action-emergency_close") == len(shown)
        link = reverse("ordering:order_list") + "?waiting=emergency"
        assert (link in alert) is (len(asked) == 3), len(asked)
    assert "Se alle 3 anmodninger" in alert


def test_only_orderers_open_the_draft_editor(cast, order_in, client):
    order = order_in("draft")
    for person in ("signatory_a", "am_a", "support"):
        client.force_login(getattr(cast, person))
        response = client.get(reverse("ordering:order_edit", args=[order.pk]))
        assert response.status_code == 302, person
    client.force_login(cast.orderer_a)
    assert client.get(reverse("ordering:order_edit", args=[order.pk])).status_code == 200


def test_a_missing_page_is_a_danish_page_without_details(cast, client):
    client.force_login(cast.orderer_a)
    response = client.get("/orders/999999/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Siden findes ikke" in body and "Traceback" not in body


def test_empty_queues_and_searches_say_so_and_keep_the_search_box(cast, client):
    body = page(client, cast.am_a, reverse("home"))
    assert 'id="queue-heading"' in body
    body = page(client, cast.support, reverse("home"), q="no such customer")
    assert 'id="support-search"' in body and 'id="support-results"' in body
    assert "<table" not in body
