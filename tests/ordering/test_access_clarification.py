"""Individual integration: the account manager clarifies the access rights before the addendum, and it states them.

The source: "Ved individuel integration skal der desuden indgås i en afklaringsproces om brugen af certifikater
og adgangsrettigheder i forhold til det eksterne systems tilgang til KMD Opus Personale."
"""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from certificates.services import certificate_upload
from certificates.testing import make_leaf, pem, zip_bytes
from ordering import services
from ordering.audit import AuditKind
from ordering.clarifications import access_clarification_record
from ordering.models import AccessClarification

from ..conftest import clarify_access
from ..security.snapshots import snapshot
from .test_addendum_wording import pdf_reader, pdf_text

DATA = "Fravær for medarbejderne i lederens egne afdelinger; ingen lønoplysninger."


def assert_issued_only_once_clarified(order, account_manager):
    """Issuing is refused, changing nothing, until the access rights of all the order's interfaces are clarified."""
    before = snapshot(order)
    with pytest.raises(services.NotAllowedNow):
        services.order_issue_addendum(order=order, actor=account_manager)
    assert snapshot(order) == before

    clarify_access(order=order, actor=account_manager, data_scope=DATA)
    assert services.order_issue_addendum(order=order, actor=account_manager).state == "awaiting_signature"


def test_an_individual_integration_cannot_be_issued_without_the_clarification(cast, individual_order):
    order = individual_order("submitted")
    assert_issued_only_once_clarified(order, cast.am_a)


def test_a_standard_integration_needs_none_and_cannot_record_one(cast, order_in):
    order = order_in("submitted")
    with pytest.raises(services.NotAllowedNow):
        clarify_access(order=order, actor=cast.am_a)
    assert not AccessClarification.objects.exists()
    assert services.order_issue_addendum(order=order, actor=cast.am_a).state == "awaiting_signature"


def test_the_clarification_must_cover_the_interfaces_the_order_names(cast, individual_order):
    order = individual_order("submitted", codes=("opret-fravaer", "moedetidsplaner"))
    access_clarification_record(
        order=order, actor=cast.am_a, interfaces=[cast.interfaces["opret-fravaer"]], data_scope=DATA
    )
    assert_issued_only_once_clarified(order, cast.am_a)


def test_interfaces_the_order_does_not_name_cannot_be_clarified(cast, individual_order):
    order = individual_order("submitted")
    with pytest.raises(services.Invalid):
        access_clarification_record(
            order=order, actor=cast.am_a, interfaces=[cast.interfaces["engangsydelser"]], data_scope=DATA
        )
    assert not AccessClarification.objects.exists()


def test_a_new_certificate_needs_the_clarification_again(cast, individual_order, pki):
    order = individual_order("submitted")
    clarify_access(order=order, actor=cast.am_a, data_scope=DATA)
    order = services.order_return_for_changes(order=order, actor=cast.am_a, comment="Nyt certifikat, tak")
    other = make_leaf(pki, cvr=cast.own_system.vendor.cvr)
    certificate_upload(
        order=order, actor=cast.orderer_a, data=zip_bytes({"ny.pem": pem(other, pki.issuing)}), filename="ny.zip"
    )
    order = services.order_submit(order=order, actor=cast.orderer_a)
    assert_issued_only_once_clarified(order, cast.am_a)


@pytest.mark.parametrize("person", ["orderer_a", "signatory_a", "support", "am_b"])
def test_only_the_orders_account_manager_records_it(cast, individual_order, person):
    order = individual_order("submitted")
    events = AuditEvent.objects.count()
    with pytest.raises(services.NotPermitted):
        clarify_access(order=order, actor=getattr(cast, person))
    assert not AccessClarification.objects.exists() and AuditEvent.objects.count() == events


@pytest.mark.parametrize("state", ["draft", "awaiting_signature"])
def test_it_is_recorded_while_the_order_is_submitted(cast, individual_order, state):
    order = individual_order(state)
    recorded = AccessClarification.objects.count()
    with pytest.raises(services.NotAllowedNow):
        clarify_access(order=order, actor=cast.am_a, data_scope="Andet")
    assert AccessClarification.objects.count() == recorded
    assert not AccessClarification.objects.filter(data_scope="Andet").exists()


def test_recording_it_is_audited_and_recording_again_replaces_it(cast, individual_order):
    order = individual_order("submitted")
    first = clarify_access(order=order, actor=cast.am_a, data_scope="Alle medarbejdere")
    again = clarify_access(order=order, actor=cast.am_a, data_scope=DATA)
    assert first.pk == again.pk and AccessClarification.objects.get().data_scope == DATA
    events = list(order.events.filter(kind=AuditKind.ACCESS_CLARIFIED).order_by("seq"))
    assert [e.comment for e in events] == ["Alle medarbejdere", DATA]
    assert {e.actor_role for e in events} == {"account_manager"}
    leaf = order.certificate_bundles.get(status="current").leaf
    assert again.certificate_sha256 == leaf.sha256 and again.certificate_subject == leaf.subject
    assert [i.code for i in again.interfaces.all()] == ["opret-fravaer"]


# --- The order page -------------------------------------------------------------------------------


def page(client, user, order) -> str:
    client.force_login(user)
    return client.get(reverse("ordering:order_detail", args=[order.pk])).content.decode()


def test_the_account_manager_records_it_on_the_order_page(cast, individual_order, client):
    order = individual_order("submitted")
    body = page(client, cast.am_a, order)
    assert 'id="access-clarification"' in body and 'name="data_scope"' in body
    url = reverse("ordering:access_clarification", args=[order.pk])
    leaf = order.certificate_bundles.get(status="current").leaf
    assert leaf.sha256 in body  # the certificate the rights are given to

    missing = client.post(url, {"interfaces": [cast.interfaces["opret-fravaer"].pk], "certificate_confirmed": "on"})
    assert missing.status_code == 400 and not AccessClarification.objects.exists()

    response = client.post(
        url,
        {"interfaces": [cast.interfaces["opret-fravaer"].pk], "data_scope": DATA, "certificate_confirmed": "on"},
    )
    assert response.status_code == 302
    clarification = AccessClarification.objects.get(order=order)
    assert (clarification.data_scope, clarification.recorded_by) == (DATA, cast.am_a)
    assert DATA in page(client, cast.am_a, order)


def test_the_customer_sees_it_but_gets_no_form(cast, individual_order, client):
    order = individual_order("submitted")
    clarify_access(order=order, actor=cast.am_a, data_scope=DATA)
    body = page(client, cast.orderer_a, order)
    assert 'id="access-clarification"' in body and DATA in body
    assert 'name="data_scope"' not in body
    response = client.post(
        reverse("ordering:access_clarification", args=[order.pk]),
        {"interfaces": [cast.interfaces["opret-fravaer"].pk], "data_scope": "Alt", "certificate_confirmed": "on"},
    )
    assert response.status_code == 302
    assert AccessClarification.objects.get().data_scope == DATA


@pytest.mark.parametrize("person", ["orderer_b", "am_b", "outsider"])
def test_other_customers_and_their_account_manager_get_not_found(cast, individual_order, client, person):
    order = individual_order("submitted")
    client.force_login(getattr(cast, person))
    response = client.post(
        reverse("ordering:access_clarification", args=[order.pk]),
        {"interfaces": [cast.interfaces["opret-fravaer"].pk], "data_scope": DATA, "certificate_confirmed": "on"},
    )
    assert response.status_code == 404
    assert not AccessClarification.objects.exists()


def test_a_standard_order_page_has_no_clarification_section(cast, order_in, client):
    assert 'id="access-clarification"' not in page(client, cast.am_a, order_in("submitted"))


def test_the_order_page_costs_the_same_queries_with_the_clarification_recorded_again(cast, individual_order, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    order = individual_order("submitted")
    clarify_access(order=order, actor=cast.am_a)
    client.force_login(cast.am_a)
    url = reverse("ordering:order_detail", args=[order.pk])
    with CaptureQueriesContext(connection) as once:
        client.get(url)
    for n in range(5):
        clarify_access(order=order, actor=cast.am_a, data_scope=f"Runde {n}")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(once.captured_queries) == len(many.captured_queries)


# --- The addendum ---------------------------------------------------------------------------------


@pytest.mark.weasyprint
def test_the_addendum_states_the_clarification_in_its_own_section(cast, individual_order):
    order = individual_order("submitted")
    clarify_access(order=order, actor=cast.am_a, data_scope=DATA)
    order = services.order_issue_addendum(order=order, actor=cast.am_a)
    addendum = services.addendum_render(order.addenda.get().pk)
    text = pdf_text(pdf_reader(addendum))
    leaf = order.certificate_bundles.get(status="current").leaf
    assert "7. Afklaring af adgangsrettigheder" in text
    assert "Standardsnitflader, som certifikatet får adgang til Opret Fravær" in text
    assert f"Data, som systemet får adgang til {DATA}" in text
    assert leaf.sha256 in text.replace(" ", "")
    assert "Registreret af Am, " in text and "(dansk tid, UTC+0" in text
    assert "KMD åbner kun adgangen for dette certifikat med de adgangsrettigheder, der er afklaret i punkt 7." in text
