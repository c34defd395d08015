"""Two account-manager actions at the same moment cannot make one licence start fee two (PostgreSQL threads).

Issuing an addendum takes the customer's lock before the order's (ordering/services/__init__.py, Locks), so two
addenda issued at once for two systems ordering the same new interface take turns: the second sees the
first's fee and names it.
"""

import pytest
from django.db import connection

from billing.models import Charge, SharedFee
from billing.quotes import frozen_quote
from ordering import services
from ordering.models import AccessOrder

from ..conftest import accept_rendered
from ..ordering.test_concurrency import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]

NEW = "medarbejderoplysninger"


@pytest.mark.parametrize("repeat", range(3))
def test_two_addenda_issued_at_once_price_one_licence_start_fee(cast, order_in, repeat):
    cast.canteen.standard_interfaces.add(cast.interfaces[NEW])
    first = order_in("submitted", codes=(NEW,))
    second = order_in("submitted", system=cast.canteen, codes=(NEW,))

    outcomes = race(
        (first.pk, services.order_issue_addendum, cast.am_a, {}),
        (second.pk, services.order_issue_addendum, cast.am_a, {}),
    )

    assert all(isinstance(o, AccessOrder) for o in outcomes), outcomes
    rules = sorted(
        line.rule
        for order in (first, second)
        for line in frozen_quote(order).lines
        if line.interface == NEW and line.kind == "one_time"
    )
    assert rules == ["licence_start", "licence_start_with_order"]
    (fee,) = SharedFee.objects.filter(key=f"licence:{NEW}")
    for order in (first, second):
        order.refresh_from_db()
        services.order_activate(order=accept_rendered(order=order, actor=cast.signatory_a), actor=cast.am_a)
    (charge,) = Charge.objects.filter(rule__startswith="licence_start")
    assert charge.order_id == fee.order_id and charge.amount == 10000
