"""AccessOrder.last_action: the order's latest lifecycle action, written with its audit event
(services.running._audit_and_notify), so the lists and worklists read a column instead of the audit trail."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import timezone

from audit.models import AuditEvent
from core.errors import NotPermitted
from ordering import services
from ordering.models import AccessOrder, State
from ordering.selectors import account_manager_worklist, orderer_worklist
from ordering.transitions import TRANSITIONS
from tests.conftest import facts

migration = importlib.import_module("ordering.migrations.0027_order_last_action")


def trail_says(order) -> str:
    """The latest lifecycle action as the audit trail records it: what the column must always equal."""
    kinds = AuditEvent.objects.filter(order=order, kind__in=list(TRANSITIONS)).order_by("-seq")
    return kinds.values_list("kind", flat=True).first() or ""


def stored(order) -> str:
    return AccessOrder.objects.get(pk=order.pk).last_action


@pytest.mark.parametrize("state", State.values)
def test_every_state_reached_through_the_services_stores_the_latest_action_of_its_trail(cast, order_in, state):
    order = order_in(state)
    assert stored(order) == trail_says(order)
    assert order.last_action == stored(order)  # the service's returned copy says the same
    assert (stored(order) == "") == (state == State.DRAFT)


def test_only_lifecycle_actions_move_it_and_an_edit_between_them_leaves_it(cast, order_in):
    submitted = order_in("submitted")
    returned = services.order_return_for_changes(order=submitted, actor=cast.am_a, comment="Ret CVR")
    assert stored(returned) == "return_for_changes"
    edited = services.order_update_draft(order=returned, actor=cast.orderer_a, facts=facts(cast, note="Rettet"))
    assert AuditEvent.objects.filter(order=edited).latest("seq").kind == "edit"
    assert stored(edited) == "return_for_changes"  # still the draft KMD returned: the orderer's "returned" list
    assert [wl.key for wl in orderer_worklist(cast.orderer_a) if wl.orders.filter(pk=edited.pk).exists()] == [
        "returned"
    ]
    resubmitted = services.order_submit(order=edited, actor=cast.orderer_a)
    assert stored(resubmitted) == "submit" == trail_says(resubmitted)


def test_a_declined_addendum_is_the_account_managers_to_issue_again_until_it_is(cast, order_in):
    awaiting = order_in("awaiting_signature")
    declined = services.order_decline(order=awaiting, actor=cast.signatory_a, comment="Forkert system")
    assert stored(declined) == "decline"

    def lists_holding(order):
        return [wl.key for wl in account_manager_worklist(cast.am_a) if wl.orders.filter(pk=order.pk).exists()]

    assert lists_holding(declined) == ["reissue"]
    services.order_issue_addendum(order=declined, actor=cast.am_a)
    assert stored(declined) == "issue_addendum" == trail_says(declined)
    assert lists_holding(declined) == []


def test_closing_steps_and_their_withdrawals_each_become_the_latest(cast, order_in):
    order = order_in("closure_requested")
    on = timezone.localdate() + datetime.timedelta(days=30)
    steps = [
        (services.order_schedule_closure, cast.am_a, {"on": on}, "schedule_closure"),
        (services.order_cancel_scheduled_closure, cast.am_a, {}, "cancel_scheduled_closure"),
        (services.order_withdraw_closure_request, cast.orderer_a, {}, "withdraw_closure_request"),
        (services.order_emergency_close, cast.support, {"reason": "Sikkerhedsbrud"}, "emergency_close"),
    ]
    for service, actor, kwargs, kind in steps:
        order = service(order=order, actor=actor, **kwargs)
        assert stored(order) == kind == trail_says(order)


def test_a_refused_transition_leaves_it_as_it_was(cast, order_in):
    order = order_in("submitted")
    with pytest.raises(NotPermitted):
        services.order_return_for_changes(order=order, actor=cast.orderer_a, comment="Ikke min at returnere")
    assert stored(order) == "submit"


def test_the_migration_fills_it_from_each_orders_audit_trail(cast, order_in):
    draft = order_in("draft")
    submitted = order_in("submitted", codes=("moedetidsplaner",))
    returned = services.order_return_for_changes(order=submitted, actor=cast.am_a, comment="Ret")
    services.order_update_draft(
        order=returned, actor=cast.orderer_a, facts=facts(cast, codes=("moedetidsplaner",), note="Rettet")
    )
    awaiting = order_in("awaiting_signature", codes=("medarbejderoplysninger",))
    declined = services.order_decline(order=awaiting, actor=cast.signatory_a, comment="Nej")
    active = order_in("active", environment="test")
    AccessOrder.objects.update(last_action="")  # as every order was before the migration

    migration.fill_last_action(apps, None)

    assert {o.pk: stored(o) for o in (draft, returned, declined, active)} == {
        draft.pk: "",
        returned.pk: "return_for_changes",
        declined.pk: "decline",
        active.pk: "activate",
    }


def test_the_migration_names_every_lifecycle_action_of_its_day():
    # Written down in the migration (a migration must not follow the code as it changes): today's are the same.
    assert list(TRANSITIONS) == migration.LIFECYCLE_ACTIONS
    add_field, fill = migration.Migration.operations
    assert add_field.name == "last_action" and fill.reverse_code is fill.noop
