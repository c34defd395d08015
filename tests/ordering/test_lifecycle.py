"""The order lifecycle through its services: what each step records, and what it refuses."""

import datetime

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from ordering import services
from ordering.models import AccessOrder, Addendum

from ..conftest import accept_rendered, facts


def snapshot(order):
    """Everything stored about an order, to prove a refused action changed nothing."""
    order = AccessOrder.objects.get(pk=order.pk)
    return (
        order.state,
        order.updated_at,
        list(order.interfaces.values_list("pk", flat=True)),
        list(order.addenda.values_list("version", "status")),
        AuditEvent.objects.count(),
    )


def test_orderer_creates_a_draft_with_an_audit_event(cast):
    order = services.order_create(actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast))
    assert order.state == "draft"
    assert order.integration_type == "standard"
    event = order.events.get()
    assert (event.kind, event.to_state, event.actor_role) == ("create", "draft", "orderer")


def test_an_orderer_cannot_create_orders_for_another_customer(cast):
    with pytest.raises(services.NotPermitted):
        services.order_create(actor=cast.orderer_b, customer=cast.customer_a, facts=facts(cast))
    assert not AccessOrder.objects.exists()


def test_interfaces_outside_the_standard_agreement_make_the_integration_individual(cast):
    order = services.order_create(
        actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast, codes=("engangsydelser",))
    )
    assert order.integration_type == "individual"


def test_a_customer_owned_system_is_individual_integration(cast):
    order = services.order_create(
        actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast, system=cast.own_system)
    )
    assert order.integration_type == "individual"


def test_another_customers_own_system_cannot_be_ordered(cast):
    with pytest.raises(services.Invalid) as error:
        services.order_create(actor=cast.orderer_b, customer=cast.customer_b, facts=facts(cast, system=cast.own_system))
    assert "external_system" in error.value.errors


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"codes": ()}, "interfaces"),
        ({"purchase_model": "package", "package": None, "codes": ()}, "package"),
        ({"purchase_model": "package", "codes": ("opret-fravaer",)}, "interfaces"),
        ({"reason": "phase_out"}, "replaces_file_interface"),
        ({"reason": "change"}, "changes_order"),
        ({"environment": "staging"}, "environment"),
    ],
)
def test_invalid_order_facts_are_named_field_by_field(cast, overrides, field):
    if overrides.get("purchase_model") == "package" and "package" not in overrides:
        overrides["package"] = cast.package
    with pytest.raises(services.Invalid) as error:
        services.order_create(actor=cast.orderer_a, customer=cast.customer_a, facts=facts(cast, **overrides))
    assert field in error.value.errors
    assert not AccessOrder.objects.exists()


def test_a_package_for_another_system_is_refused(cast):
    with pytest.raises(services.Invalid) as error:
        services.order_create(
            actor=cast.orderer_a,
            customer=cast.customer_a,
            facts=facts(cast, system=cast.canteen, purchase_model="package", package=cast.package, codes=()),
        )
    assert "package" in error.value.errors


def test_file_interfaces_cannot_be_ordered(cast):
    f = facts(cast)
    f["interfaces"] = [cast.ind01]
    with pytest.raises(services.Invalid) as error:
        services.order_create(actor=cast.orderer_a, customer=cast.customer_a, facts=f)
    assert "interfaces" in error.value.errors


def test_a_phase_out_order_names_the_file_interface_it_replaces(cast):
    order = services.order_create(
        actor=cast.orderer_a,
        customer=cast.customer_a,
        facts=facts(
            cast, system=cast.canteen, codes=("engangsydelser",), reason="phase_out", replaces_file_interface=cast.ind01
        ),
    )
    assert order.replaces_file_interface == cast.ind01


def test_submit_is_refused_while_another_open_order_covers_the_same_system_and_interface(cast, order_in):
    existing = order_in("active", codes=("opret-fravaer", "medarbejderoplysninger"))
    second = order_in("draft", codes=("medarbejderoplysninger",))
    before = snapshot(second)
    with pytest.raises(services.Invalid) as error:
        services.order_submit(order=second, actor=cast.orderer_a)
    assert existing.reference in error.value.message
    assert snapshot(second) == before


def test_a_package_order_conflicts_with_an_open_single_purchase_of_one_of_its_interfaces(cast, order_in):
    order_in("submitted", codes=("moedetidsplaner",))
    package_order = order_in("draft", purchase_model="package", package=cast.package, codes=())
    with pytest.raises(services.Invalid):
        services.order_submit(order=package_order, actor=cast.orderer_a)


def test_the_same_interface_in_the_other_environment_or_after_closure_does_not_conflict(cast, order_in):
    order_in("closed", codes=("opret-fravaer",))
    order_in("active", codes=("opret-fravaer",), environment="test")
    order = order_in("draft", codes=("opret-fravaer",))
    assert services.order_submit(order=order, actor=cast.orderer_a).state == "submitted"


def test_the_happy_path_records_who_did_what(cast, order_in):
    order = order_in("draft")
    order = services.order_submit(order=order, actor=cast.orderer_a)
    assert order.submitted_at is not None
    order = services.order_issue_addendum(order=order, actor=cast.am_a)
    addendum = order.addenda.get()
    assert (addendum.version, addendum.status, addendum.issued_by) == (1, "issued", cast.am_a)
    order = accept_rendered(order=order, actor=cast.signatory_a, ip="192.0.2.7")
    addendum.refresh_from_db()
    assert (addendum.status, addendum.decided_by, addendum.decided_from_ip) == (
        "accepted",
        cast.signatory_a,
        "192.0.2.7",
    )
    order = services.order_activate(order=order, actor=cast.am_a)
    assert order.activated_on == timezone.localdate()
    order = services.order_request_closure(order=order, actor=cast.orderer_a)
    order = services.order_close(order=order, actor=cast.am_a)
    assert (order.state, order.closed_on) == ("closed", timezone.localdate())
    assert list(order.events.values_list("kind", flat=True)) == [
        "create",
        "submit",
        "issue_addendum",
        "accept",
        "activate",
        "request_closure",
        "close",
    ]


def test_revise_supersedes_the_issued_version_with_a_new_one(cast, order_in):
    order = order_in("awaiting_signature")
    order = services.order_revise(order=order, actor=cast.am_a, comment="Rettet pris")
    assert list(order.addenda.order_by("version").values_list("version", "status")) == [
        (1, "superseded"),
        (2, "issued"),
    ]
    assert order.state == "awaiting_signature"


def test_decline_returns_the_order_to_the_account_manager_with_the_reason(cast, order_in):
    order = order_in("awaiting_signature")
    order = services.order_decline(order=order, actor=cast.signatory_a, comment="Forkert miljø")
    assert order.state == "submitted"
    addendum = order.addenda.get()
    assert (addendum.status, addendum.decline_reason) == ("declined", "Forkert miljø")
    order = services.order_issue_addendum(order=order, actor=cast.am_a)
    assert order.addenda.filter(status=Addendum.Status.ISSUED).get().version == 2


def test_return_for_changes_sends_the_order_back_to_draft_for_editing(cast, order_in):
    order = order_in("submitted")
    order = services.order_return_for_changes(order=order, actor=cast.am_a, comment="Vælg testmiljøet")
    assert order.state == "draft"
    order = services.order_update_draft(order=order, actor=cast.orderer_a, facts=facts(cast, environment="test"))
    assert order.environment == "test"
    assert services.order_submit(order=order, actor=cast.orderer_a).state == "submitted"


def test_only_drafts_can_be_edited(cast, order_in):
    order = order_in("submitted")
    with pytest.raises(services.NotAllowedNow):
        services.order_update_draft(order=order, actor=cast.orderer_a, facts=facts(cast, environment="test"))
    assert AccessOrder.objects.get(pk=order.pk).environment == "production"


@pytest.mark.parametrize(
    ("service", "kwargs"),
    [
        (services.order_reject, {"comment": "  "}),
        (services.order_return_for_changes, {"comment": ""}),
    ],
)
def test_reasons_are_required_where_the_other_party_needs_them(cast, order_in, service, kwargs):
    order = order_in("submitted")
    before = snapshot(order)
    with pytest.raises(services.Invalid):
        service(order=order, actor=cast.am_a, **kwargs)
    assert snapshot(order) == before


def test_emergency_close_needs_a_reason(cast, order_in):
    order = order_in("active")
    before = snapshot(order)
    with pytest.raises(services.Invalid):
        services.order_emergency_close(order=order, actor=cast.support, reason="")
    assert snapshot(order) == before


def test_closing_in_the_future_or_before_activation_is_refused(cast, order_in):
    order = order_in("active")
    with pytest.raises(services.Invalid):
        services.order_close(order=order, actor=cast.am_a, on=timezone.localdate() + datetime.timedelta(days=1))
    with pytest.raises(services.Invalid):
        services.order_close(order=order, actor=cast.am_a, on=order.activated_on - datetime.timedelta(days=1))
    assert AccessOrder.objects.get(pk=order.pk).state == "active"


def test_a_transition_on_a_stale_copy_is_refused_and_changes_nothing(cast, order_in):
    order = order_in("submitted")
    stale = AccessOrder.objects.get(pk=order.pk)
    services.order_issue_addendum(order=order, actor=cast.am_a)
    before = snapshot(order)
    with pytest.raises(services.ChangedMeanwhile):
        services.order_reject(order=stale, actor=cast.am_a, comment="Nej")
    assert snapshot(order) == before


def test_activating_a_change_order_closes_the_access_it_changes(cast, order_in):
    original = order_in("active", codes=("opret-fravaer",))
    change = order_in("active", codes=("opret-fravaer", "moedetidsplaner"), reason="change", changes_order=original)
    original.refresh_from_db()
    assert original.state == "closed"
    assert original.closed_on == change.activated_on
    assert original.events.order_by("-seq").first().params == {"replaced_by": change.reference}


def test_a_change_order_must_change_an_active_access_of_the_same_system(cast, order_in):
    other_system = order_in("active", system=cast.canteen, codes=("engangsydelser",))
    with pytest.raises(services.Invalid) as error:
        order_in("draft", reason="change", changes_order=other_system)
    assert "changes_order" in error.value.errors
