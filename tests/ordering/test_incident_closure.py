"""Support's incident closure: every running access of one external system or vendor emergency-closed at once.

Issue #22, item 10: "for an incident, support closing every access of one system or vendor at once … each order
audited and e-mailed; the register drops them in the same transaction."
"""

import json

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from core.models import OutboxMessage
from ordering import services
from ordering.models import AccessOrder, ExternalSystem, Vendor
from ordering.services import closure
from registers.access import access_register

from ..conftest import make_order

URL = reverse("ordering:incident_closure")
BREACH = "Vagtdata A/S har meldt et sikkerhedsbrud; alle certifikater spærres."
PEOPLE = ["orderer_a", "signatory_a", "am_a", "am_b", "orderer_b", "signatory_b", "outsider"]


@pytest.fixture
def incident(cast):
    """Vagtdata A/S's two systems running at both customers (one access with closure requested), one being set up,
    one already closed, and another vendor's system running at customer B."""
    other_vendor = Vendor.objects.create(name="Rekrutteringshuset ApS", cvr="27182818")
    recruiting = ExternalSystem.objects.create(
        name="RekrutPro", vendor=other_vendor, category="recruitment", is_standard=True
    )
    recruiting.standard_interfaces.set([cast.interfaces["engangsydelser"]])
    orders = {
        "vagtplan_a": make_order(cast, "active", codes=("opret-fravaer",)),
        "vagtplan_a_test": make_order(cast, "closure_requested", codes=("medarbejderoplysninger",), environment="test"),
        "vagtplan_b": make_order(cast, "active", customer=cast.customer_b, codes=("opret-fravaer",)),
        "kantine_a": make_order(cast, "active", system=cast.canteen, codes=("engangsydelser",)),
        "provisioning_a": make_order(cast, "provisioning", codes=("moedetidsplaner",)),
        "closed_b": make_order(cast, "closed", customer=cast.customer_b, codes=("medarbejderoplysninger",)),
        "other_vendor_b": make_order(
            cast, "active", customer=cast.customer_b, system=recruiting, codes=("engangsydelser",)
        ),
    }
    return orders


def states(orders: dict) -> dict:
    fresh = {o.pk: o.state for o in AccessOrder.objects.filter(pk__in=[o.pk for o in orders.values()])}
    return {name: fresh[order.pk] for name, order in orders.items()}


def ids(*orders) -> list[int]:
    return sorted(order.pk for order in orders)


def registered(environment: str = "production") -> set[str]:
    return {entry["order"] for entry in json.loads(access_register(environment).body)["accesses"]}


def close_vendor(cast, incident, **kwargs):
    vendor = cast.rostering.vendor
    expected = ids(incident["vagtplan_a"], incident["vagtplan_a_test"], incident["vagtplan_b"], incident["kantine_a"])
    return services.incident_close(
        target=vendor,
        actor=kwargs.get("actor", cast.support),
        reason=kwargs.get("reason", BREACH),
        expected_ids=expected,
    )


# --- The service ---------------------------------------------------------------------------------------


def test_closing_a_vendor_emergency_closes_every_running_access_of_all_its_systems_and_nothing_else(cast, incident):
    closed = close_vendor(cast, incident)
    assert [o.reference for o in closed] == [
        incident[name].reference for name in ("vagtplan_a", "vagtplan_a_test", "vagtplan_b", "kantine_a")
    ]
    assert states(incident) == {
        "vagtplan_a": "emergency_closed",
        "vagtplan_a_test": "emergency_closed",
        "vagtplan_b": "emergency_closed",
        "kantine_a": "emergency_closed",
        # Not running: being set up has no access yet, and a closed one has none any more.
        "provisioning_a": "provisioning",
        "closed_b": "closed",
        "other_vendor_b": "active",
    }
    order = AccessOrder.objects.get(pk=incident["vagtplan_b"].pk)
    assert (order.emergency_reason, order.closed_on) == (BREACH, timezone.localdate())


def test_closing_a_system_closes_only_that_systems_accesses(cast, incident):
    expected = ids(incident["vagtplan_a"], incident["vagtplan_a_test"], incident["vagtplan_b"])
    services.incident_close(target=cast.rostering, actor=cast.support, reason=BREACH, expected_ids=expected)
    assert states(incident)["kantine_a"] == "active"
    assert [states(incident)[n] for n in ("vagtplan_a", "vagtplan_a_test", "vagtplan_b")] == ["emergency_closed"] * 3


def test_each_order_gets_its_own_emergency_closure_event_and_one_incident_event_groups_them(cast, incident):
    before = AuditEvent.objects.order_by("-seq").first().seq
    close_vendor(cast, incident)
    events = list(AuditEvent.objects.filter(seq__gt=before).order_by("seq"))
    per_order = [e for e in events if e.kind == "emergency_close"]
    assert sorted(e.order_id for e in per_order) == ids(
        incident["vagtplan_a"], incident["vagtplan_a_test"], incident["vagtplan_b"], incident["kantine_a"]
    )
    for event in per_order:
        assert (event.actor, event.actor_role, event.to_state, event.comment) == (
            cast.support,
            "support",
            "emergency_closed",
            BREACH,
        )
        assert event.params == {"incident": "Vagtdata A/S"}
        assert event.summary == ["Lukket sammen med alle aktive adgange for Vagtdata A/S (lukning ved hændelse)."]
    grouping = events[-1]
    assert (grouping.kind, grouping.order_id, grouping.subject_id, grouping.comment) == (
        "incident_close",
        None,
        str(cast.rostering.vendor.pk),
        BREACH,
    )
    references = ", ".join(
        sorted(incident[n].reference for n in ("vagtplan_a", "vagtplan_a_test", "vagtplan_b", "kantine_a"))
    )
    assert grouping.params == {"incident_orders": references, "incident_count": 4}
    assert grouping.summary == [f"Akut lukkede adgange (4): {references}."]


def test_each_customer_and_account_manager_is_emailed_about_their_own_orders_only(
    cast, incident, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        close_vendor(cast, incident)
    for name, customer_people in (
        ("vagtplan_a", {"orderer_a", "signatory_a", "am_a"}),
        ("vagtplan_b", {"orderer_b", "signatory_b", "am_b"}),
    ):
        reference = incident[name].reference
        about = [m for m in mail.outbox if reference in m.subject + m.body]
        assert {address for m in about for address in m.to} == {f"{p}@example.test" for p in customer_people}
        assert all(BREACH in m.body for m in about)
    # Customer A's three closed accesses, customer B's one: 3 e-mails each (orderer, signatory, account manager).
    assert len(mail.outbox) == 4 * 3
    assert not any(
        incident["vagtplan_b"].reference in m.body for m in mail.outbox if m.to[0].endswith("_a@example.test")
    )


def test_the_register_lists_none_of_them_once_the_closure_commits(cast, incident):
    running_production = {incident[n].reference for n in ("vagtplan_a", "vagtplan_b", "kantine_a", "other_vendor_b")}
    assert registered("production") == running_production
    assert registered("test") == {incident["vagtplan_a_test"].reference}
    close_vendor(cast, incident)
    assert registered("production") == {incident["other_vendor_b"].reference}
    assert registered("test") == set()


def test_a_closure_failing_midway_closes_nothing(cast, incident, monkeypatch, django_capture_on_commit_callbacks):
    """One transaction: the second order's closure fails after the first was closed, and the first is open again."""
    real = closure.order_emergency_close
    calls = []

    def fails_on_the_second(**kwargs):
        calls.append(kwargs["order"].pk)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    monkeypatch.setattr(closure, "order_emergency_close", fails_on_the_second)
    before = (states(incident), AuditEvent.objects.count(), OutboxMessage.objects.count(), registered())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        close_vendor(cast, incident)
    assert len(calls) == 2
    assert (states(incident), AuditEvent.objects.count(), OutboxMessage.objects.count(), registered()) == before
    assert mail.outbox == []


def test_an_incident_with_no_running_access_is_refused_clearly(cast, incident):
    idle = ExternalSystem.objects.create(name="Tomt System", vendor=cast.rostering.vendor, category="other")
    events = AuditEvent.objects.count()
    with pytest.raises(services.NotAllowedNow, match=r"Tomt System \(Vagtdata A/S\) har ingen aktiv adgang"):
        services.incident_close(target=idle, actor=cast.support, reason=BREACH, expected_ids=[])
    assert AuditEvent.objects.count() == events


def test_one_running_access_is_closed_the_boundary_above_none(cast):
    order = make_order(cast, "active", system=cast.canteen, codes=("engangsydelser",))
    closed = services.incident_close(target=cast.canteen, actor=cast.support, reason=BREACH, expected_ids=[order.pk])
    assert [o.pk for o in closed] == [order.pk]
    assert AccessOrder.objects.get(pk=order.pk).state == "emergency_closed"


def test_an_access_closed_after_the_preview_refuses_the_whole_closure(cast, incident):
    services.order_close(order=incident["vagtplan_b"], actor=cast.am_b)
    before = (states(incident), AuditEvent.objects.count())
    with pytest.raises(services.ChangedMeanwhile) as refused:
        close_vendor(cast, incident)
    assert f"ikke længere aktive: {incident['vagtplan_b'].reference}" in refused.value.message
    assert "bekræft de 3 adgange" in refused.value.message
    assert (states(incident), AuditEvent.objects.count()) == before


def test_an_access_established_after_the_preview_refuses_the_whole_closure(cast, incident):
    services.order_activate(order=incident["provisioning_a"], actor=cast.am_a)
    before = (states(incident), AuditEvent.objects.count())
    with pytest.raises(services.ChangedMeanwhile, match=f"kommet til: {incident['provisioning_a'].reference}"):
        close_vendor(cast, incident)
    assert (states(incident), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("person", PEOPLE)
def test_only_support_may_close_for_an_incident(cast, incident, person):
    before = (states(incident), AuditEvent.objects.count())
    with pytest.raises(services.NotPermitted):
        close_vendor(cast, incident, actor=getattr(cast, person))
    assert (states(incident), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_the_reason_is_required(cast, incident, reason):
    before = (states(incident), AuditEvent.objects.count())
    with pytest.raises(services.Invalid, match="Skriv begrundelsen for lukningen"):
        close_vendor(cast, incident, reason=reason)
    assert (states(incident), AuditEvent.objects.count()) == before


# --- The page ------------------------------------------------------------------------------------------


def page(client, user, **query):
    client.force_login(user)
    return client.get(URL, query)


def test_support_chooses_a_system_or_vendor_with_its_number_of_running_accesses(cast, incident, client):
    response = page(client, cast.support)
    assert response.status_code == 200
    html = response.content.decode()
    assert "VagtPlan (Vagtdata A/S) · 3 aktive adgange" in html
    assert "KantineKort (Vagtdata A/S) · 1 aktiv adgang<" in html
    assert "Vagtdata A/S (CVR 31415926) · 4 aktive adgange" in html
    assert "Rekrutteringshuset ApS (CVR 27182818) · 1 aktiv adgang<" in html


def test_the_preview_lists_the_running_accesses_with_count_customers_and_confirmation(cast, incident, client):
    vendor = cast.rostering.vendor
    response = page(client, cast.support, vendor=vendor.pk)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("vagtplan_a", "vagtplan_a_test", "vagtplan_b", "kantine_a"):
        assert incident[name].reference in html
    for name in ("provisioning_a", "closed_b", "other_vendor_b"):
        assert incident[name].reference not in html
    assert "Aarhus Kommune, Odense Kommune" in html
    assert "Luk 4 adgange akut" in html
    # The confirmation names the count and the consequence.
    assert "Lukker 4 adgange for Vagtdata A/S nu." in html and "Det kan ikke fortrydes." in html
    expected = ",".join(
        str(pk) for pk in ids(*(incident[n] for n in ("vagtplan_a", "vagtplan_a_test", "vagtplan_b", "kantine_a")))
    )
    assert f'name="orders" value="{expected}"' in html


def test_a_system_without_running_access_says_so_and_offers_no_closure(cast, incident, client):
    idle = ExternalSystem.objects.create(name="Tomt System", vendor=cast.rostering.vendor, category="other")
    html = page(client, cast.support, system=idle.pk).content.decode()
    assert "Tomt System (Vagtdata A/S) har ingen aktiv adgang, så der er intet at lukke." in html
    assert 'name="reason"' not in html


def post(client, target: dict, data: dict):
    return client.post(f"{URL}?{'&'.join(f'{k}={v}' for k, v in target.items())}", data)


def test_support_confirms_and_every_access_closes(cast, incident, client, django_capture_on_commit_callbacks):
    client.force_login(cast.support)
    expected = ",".join(
        str(pk) for pk in ids(incident["vagtplan_a"], incident["vagtplan_a_test"], incident["vagtplan_b"])
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, {"system": cast.rostering.pk}, {"reason": BREACH, "orders": expected, "confirmed": "1"})
    assert response.status_code == 302 and response.url == URL
    assert [states(incident)[n] for n in ("vagtplan_a", "vagtplan_a_test", "vagtplan_b", "kantine_a")] == [
        "emergency_closed",
        "emergency_closed",
        "emergency_closed",
        "active",
    ]
    followed = client.get(response.url).content.decode()
    assert "3 adgange for VagtPlan (Vagtdata A/S) er lukket akut." in followed


def test_without_javascript_the_closure_asks_on_a_page_first_and_closes_nothing(cast, incident, client):
    client.force_login(cast.support)
    expected = ",".join(str(pk) for pk in ids(incident["kantine_a"]))
    response = post(client, {"system": cast.canteen.pk}, {"reason": BREACH, "orders": expected})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Lukker 1 adgang for KantineKort (Vagtdata A/S) nu." in html
    assert 'name="confirmed" value="1"' in html
    assert states(incident)["kantine_a"] == "active"


def test_a_missing_reason_is_shown_by_the_field_and_nothing_closes(cast, incident, client):
    client.force_login(cast.support)
    response = post(
        client, {"system": cast.canteen.pk}, {"reason": "", "orders": str(incident["kantine_a"].pk), "confirmed": "1"}
    )
    assert response.status_code == 400
    assert "Skriv begrundelsen for lukningen" in response.content.decode()
    assert states(incident)["kantine_a"] == "active"


def test_a_stale_preview_shows_the_current_list_and_keeps_the_reason(cast, incident, client):
    stale = ",".join(str(pk) for pk in ids(incident["vagtplan_a"], incident["vagtplan_a_test"], incident["vagtplan_b"]))
    services.order_close(order=incident["vagtplan_b"], actor=cast.am_b)
    client.force_login(cast.support)
    response = post(client, {"system": cast.rostering.pk}, {"reason": BREACH, "orders": stale, "confirmed": "1"})
    assert response.status_code == 409
    html = response.content.decode()
    assert "Intet blev lukket" in html
    assert BREACH in html
    assert "Luk 2 adgange akut" in html
    assert [states(incident)[n] for n in ("vagtplan_a", "vagtplan_a_test")] == ["active", "closure_requested"]


def test_a_tampered_list_of_orders_is_refused(cast, incident, client):
    client.force_login(cast.support)
    response = post(client, {"system": cast.canteen.pk}, {"reason": BREACH, "orders": "1;drop", "confirmed": "1"})
    assert response.status_code == 400
    assert states(incident)["kantine_a"] == "active"


@pytest.mark.parametrize("person", PEOPLE)
def test_everyone_but_support_is_refused_the_page_and_the_post(cast, incident, client, person):
    client.force_login(getattr(cast, person))
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"vendor": cast.rostering.vendor.pk}).status_code == 403
    response = post(
        client,
        {"system": cast.canteen.pk},
        {"reason": BREACH, "orders": str(incident["kantine_a"].pk), "confirmed": "1"},
    )
    assert response.status_code == 403
    assert states(incident)["kantine_a"] == "active"


def test_a_visitor_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response.url


def test_an_unknown_system_is_not_found(cast, client):
    client.force_login(cast.support)
    assert client.get(URL, {"system": 999999}).status_code == 404
    assert client.get(URL, {"vendor": "x"}).status_code == 404


def test_the_post_needs_the_csrf_token(cast, incident):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cast.support)
    response = strict.post(
        f"{URL}?system={cast.canteen.pk}",
        {"reason": BREACH, "orders": str(incident["kantine_a"].pk), "confirmed": "1"},
    )
    assert response.status_code == 403
    assert states(incident)["kantine_a"] == "active"


def test_supports_start_page_links_the_incident_closure(cast, client):
    client.force_login(cast.support)
    assert f'href="{URL}"' in client.get(reverse("home")).content.decode()
    client.force_login(cast.am_a)
    assert f'href="{URL}"' not in client.get(reverse("home")).content.decode()


def test_the_preview_costs_the_same_queries_for_one_and_many_accesses(cast, client, django_assert_num_queries):
    client.force_login(cast.support)
    vendor = cast.rostering.vendor

    def preview():
        response = client.get(URL, {"vendor": vendor.pk})
        assert response.status_code == 200
        return response.content.decode()

    make_order(cast, "active", codes=("opret-fravaer",))
    preview()  # the session and the caches warmed up
    with CaptureQueriesContext(connection) as one:
        assert "Luk 1 adgang akut" in preview()
    for customer, codes, environment in [
        (cast.customer_a, "medarbejderoplysninger", "production"),
        (cast.customer_a, "moedetidsplaner", "test"),
        (cast.customer_b, "opret-fravaer", "production"),
        (cast.customer_b, "medarbejderoplysninger", "test"),
    ]:
        make_order(cast, "active", customer=customer, codes=(codes,), environment=environment)
    make_order(cast, "active", system=cast.canteen, codes=("engangsydelser",))
    with django_assert_num_queries(len(one)):
        assert "Luk 6 adgange akut" in preview()


def test_the_choice_costs_the_same_queries_however_many_systems_and_vendors(cast, client, django_assert_num_queries):
    client.force_login(cast.support)
    client.get(URL)  # the session and the caches warmed up
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for index in range(5):
        vendor = Vendor.objects.create(name=f"Leverandør {index}", cvr=f"1000000{index}")
        ExternalSystem.objects.create(name=f"System {index}", vendor=vendor, category="other", owner=cast.customer_b)
    make_order(cast, "active", codes=("opret-fravaer",))
    with django_assert_num_queries(len(few)):
        html = client.get(URL).content.decode()
    assert "System 4 (Leverandør 4), eget system hos Odense Kommune · 0 aktive adgange" in html
