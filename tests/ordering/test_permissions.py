"""Who may perform each transition: the whole table of role × transition, at the service."""

import pytest

from audit.models import AuditEvent
from ordering import services
from ordering.models import AccessOrder

from ..conftest import accept_rendered

# transition -> (state it starts from, service, extra arguments, the one role allowed)
TRANSITIONS = {
    "submit": ("draft", services.order_submit, {}, "orderer_a"),
    "return_for_changes": ("submitted", services.order_return_for_changes, {"comment": "Ret"}, "am_a"),
    "reject": ("submitted", services.order_reject, {"comment": "Nej"}, "am_a"),
    "withdraw": ("submitted", services.order_withdraw, {}, "orderer_a"),
    "issue_addendum": ("submitted", services.order_issue_addendum, {}, "am_a"),
    "revise": ("awaiting_signature", services.order_revise, {"comment": "Ny pris"}, "am_a"),
    "accept": ("awaiting_signature", accept_rendered, {}, "signatory_a"),
    "decline": ("awaiting_signature", services.order_decline, {"comment": "Forkert"}, "signatory_a"),
    "activate": ("provisioning", services.order_activate, {}, "am_a"),
    "request_closure": ("active", services.order_request_closure, {}, "orderer_a"),
    "close": ("active", services.order_close, {}, "am_a"),
    "emergency_close": ("active", services.order_emergency_close, {"reason": "Brud"}, "support"),
}
# Everyone who might try: the customer's own people, KMD's people, and the other customer's people.
PEOPLE = ["orderer_a", "signatory_a", "am_a", "support", "am_b", "orderer_b", "signatory_b", "outsider"]


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize("transition", list(TRANSITIONS))
def test_only_the_right_role_may_perform_each_transition(cast, order_in, transition, person):
    start, service, kwargs, allowed = TRANSITIONS[transition]
    order = order_in(start)
    events_before = AuditEvent.objects.count()
    actor = getattr(cast, person)

    if person == allowed:
        result = service(order=order, actor=actor, **kwargs)
        assert result.state != start or transition == "revise"
        assert AuditEvent.objects.count() == events_before + 1
        event = AuditEvent.objects.order_by("-seq").first()
        assert (event.kind, event.actor, event.from_state) == (transition, actor, start)
    else:
        with pytest.raises(services.NotPermitted):
            service(order=order, actor=actor, **kwargs)
        assert AccessOrder.objects.get(pk=order.pk).state == start
        assert AuditEvent.objects.count() == events_before


def test_a_closed_order_offers_no_transition_to_anyone(cast, order_in):
    order = order_in("closed")
    for person in PEOPLE:
        assert list(order.get_available_user_state_transitions(getattr(cast, person))) == []


def test_close_is_also_allowed_straight_from_closure_requested(cast, order_in):
    order = order_in("closure_requested")
    closed = services.order_close(order=order, actor=cast.am_a)
    assert closed.state == "closed"


def test_support_may_emergency_close_while_access_is_being_established(cast, order_in):
    order = order_in("provisioning")
    closed = services.order_emergency_close(order=order, actor=cast.support, reason="Nøgle lækket")
    assert closed.state == "emergency_closed"
    assert closed.emergency_reason == "Nøgle lækket"


@pytest.mark.parametrize("state", ["draft", "submitted", "awaiting_signature", "closed", "withdrawn", "rejected"])
def test_emergency_close_is_only_for_live_access(cast, order_in, state):
    order = order_in(state)
    with pytest.raises(services.NotAllowedNow):
        services.order_emergency_close(order=order, actor=cast.support, reason="Brud")


def test_a_user_holding_two_roles_acts_in_the_role_the_transition_needs(cast, order_in):
    from ordering.models import CustomerMembership

    CustomerMembership.objects.filter(user=cast.orderer_a).update(is_signatory=True)
    order = order_in("awaiting_signature")
    accepted = accept_rendered(order=order, actor=cast.orderer_a)
    event = AuditEvent.objects.order_by("-seq").first()
    assert accepted.state == "provisioning"
    assert event.actor_role == "signatory"
