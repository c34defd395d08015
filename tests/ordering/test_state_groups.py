"""The lifecycle's state groups (ordering/models.py): each name says what its states share, each holds exactly
the states its callers relied on before they were named, and AccessOrderQuerySet selects the same."""

import pytest

from ordering import models
from ordering.models import AccessOrder, State

# What every group held when the ad-hoc tuples were named (#20 part 4): renaming must not change a state.
GROUPS = {
    "OPEN_STATES": {"submitted", "awaiting_signature", "provisioning", "active", "closure_requested"},
    "ACCESS_AGREED_STATES": {"provisioning", "active", "closure_requested"},  # was LIVE_ACCESS_STATES
    "ACCESS_RUNNING_STATES": {"active", "closure_requested"},  # was RUNNING_ACCESS_STATES
    "ESTABLISHED_STATES": {"active", "closure_requested", "closed", "emergency_closed"},
    "CLOSED_STATES": {"closed", "emergency_closed"},  # was registers.controller's, and two bare tuples
    "ABANDONED_STATES": {"withdrawn", "rejected"},  # two bare tuples (ordering and billing services)
    "FINAL_STATES": {"closed", "emergency_closed", "withdrawn", "rejected"},
    "CERTIFICATE_CHANGE_STATES": {"draft", "active"},  # certificates' upload and the order page's button
    "PACKAGE_READ_LIVE_STATES": {"draft", "submitted", "withdrawn", "rejected"},
}


@pytest.mark.parametrize("name", GROUPS)
def test_each_group_holds_exactly_its_states(name):
    assert set(getattr(models, name)) == GROUPS[name]


def test_a_provisioning_order_is_agreed_but_its_access_does_not_run_yet():
    assert State.PROVISIONING in models.ACCESS_AGREED_STATES
    assert State.PROVISIONING not in models.ACCESS_RUNNING_STATES
    assert set(models.ACCESS_AGREED_STATES) - set(models.ACCESS_RUNNING_STATES) == {State.PROVISIONING}


def test_every_final_state_was_ended_by_a_closure_or_before_any_agreement():
    assert set(models.FINAL_STATES) == set(models.CLOSED_STATES) | set(models.ABANDONED_STATES)
    assert not set(models.CLOSED_STATES) & set(models.ABANDONED_STATES)


def test_the_lifecycle_moves_use_the_groups():
    # django-fsm keeps each method's transitions by source; emergency_close leaves any agreed access, close a
    # running one only.
    assert {t.source for t in AccessOrder.emergency_close._django_fsm.transitions.values()} == set(
        models.ACCESS_AGREED_STATES
    )
    assert {t.source for t in AccessOrder.close._django_fsm.transitions.values()} == set(models.ACCESS_RUNNING_STATES)


@pytest.mark.parametrize("state", State.values)
def test_the_queryset_methods_select_exactly_their_groups(cast, order_in, state):
    order = order_in("draft")
    AccessOrder.objects.filter(pk=order.pk).update(state=state)
    one = AccessOrder.objects.filter(pk=order.pk)
    assert one.open().exists() == (state in GROUPS["OPEN_STATES"])
    assert one.access_agreed().exists() == (state in GROUPS["ACCESS_AGREED_STATES"])
    assert one.access_running().exists() == (state in GROUPS["ACCESS_RUNNING_STATES"])
    # Through a relation too: a customer's orders.
    assert cast.customer_a.orders.access_running().filter(pk=order.pk).exists() == (
        state in GROUPS["ACCESS_RUNNING_STATES"]
    )
