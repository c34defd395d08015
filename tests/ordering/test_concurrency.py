"""Two people acting on one order at the same moment: exactly one wins, the other is told why.

Runs only on PostgreSQL, where each thread gets its own real connection and row locks are real.
"""

import threading

import pytest
from django.db import connection, connections

from audit.models import AuditEvent
from ordering import services
from ordering.models import AccessOrder

from ..conftest import acceptance

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


def race(*contenders):
    """Run each (order pk, service, actor, kwargs) in its own thread, released together; return outcomes."""
    barrier = threading.Barrier(len(contenders))
    outcomes: list = [None] * len(contenders)

    def run(i, order_pk, service, actor, kwargs):
        try:
            order = AccessOrder.objects.get(pk=order_pk)  # each thread reads the order, as a request would
            barrier.wait(timeout=10)
            outcomes[i] = service(order=order, actor=actor, **kwargs)
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[i] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, *c)) for i, c in enumerate(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


@pytest.mark.parametrize("repeat", range(3))
def test_close_racing_emergency_close_lets_exactly_one_through(cast, order_in, repeat):
    order = order_in("active")
    events_before = AuditEvent.objects.count()

    outcomes = race(
        (order.pk, services.order_close, cast.am_a, {}),
        (order.pk, services.order_emergency_close, cast.support, {"reason": "Sikkerhedsbrud"}),
    )

    winners = [o for o in outcomes if isinstance(o, AccessOrder)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], services.ChangedMeanwhile)
    assert "Reload" in losers[0].message or "Genindlæs" in losers[0].message
    assert AuditEvent.objects.count() == events_before + 1
    assert AccessOrder.objects.get(pk=order.pk).state == winners[0].state


def race_with_the_acceptance(cast, order, rival):
    """Signatory A accepts `order` while `rival` (order pk, service, actor, kwargs) acts on it: the two outcomes,
    the acceptance's first, and how many audit events they wrote together."""
    events_before = AuditEvent.objects.count()
    outcomes = race((order.pk, services.order_accept, cast.signatory_a, acceptance(order)), rival)
    return outcomes, AuditEvent.objects.count() - events_before


def test_accept_racing_emergency_close_lets_exactly_one_through(cast, order_in):
    # Support read the order before the signatory accepted it; whichever gets the row lock first,
    # only one change is made and the other person is told the order is not what they saw.
    order = order_in("awaiting_signature")
    outcomes, events = race_with_the_acceptance(
        cast, order, (order.pk, services.order_emergency_close, cast.support, {"reason": "Sikkerhedsbrud"})
    )
    assert isinstance(outcomes[0], AccessOrder), outcomes
    assert isinstance(outcomes[1], (services.ChangedMeanwhile, services.NotAllowedNow)), outcomes
    assert outcomes[1].message
    assert events == 1
    assert AccessOrder.objects.get(pk=order.pk).state == "provisioning"


def test_accept_racing_decline_lets_exactly_one_through(cast, order_in):
    order = order_in("awaiting_signature")
    outcomes, events = race_with_the_acceptance(
        cast, order, (order.pk, services.order_decline, cast.signatory_a, {"comment": "Nej"})
    )
    assert sum(isinstance(o, AccessOrder) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, services.ChangedMeanwhile) for o in outcomes) == 1, outcomes
    assert events == 1
    assert order.addenda.exclude(status="issued").count() == 1


def test_a_double_submit_is_recorded_once(cast, order_in):
    order = order_in("draft")
    outcomes = race(
        (order.pk, services.order_submit, cast.orderer_a, {}),
        (order.pk, services.order_submit, cast.orderer_a, {}),
    )
    assert sum(isinstance(o, AccessOrder) for o in outcomes) == 1, outcomes
    assert AuditEvent.objects.filter(order=order, kind="submit").count() == 1


def test_transitions_on_different_orders_keep_one_unbroken_audit_chain(cast, order_in):
    from audit.verification import audit_verify

    first = order_in("submitted")
    second = order_in("submitted", system=cast.canteen, codes=("engangsydelser",))
    outcomes = race(
        (first.pk, services.order_issue_addendum, cast.am_a, {}),
        (second.pk, services.order_reject, cast.am_a, {"comment": "Nej"}),
    )
    assert all(isinstance(o, AccessOrder) for o in outcomes)
    assert audit_verify() == []
