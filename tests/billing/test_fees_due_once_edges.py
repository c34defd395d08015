"""Fees due once at their edges (found by a review of billing/services.py): a fee moves only to the order that
promised to take over exactly that fee, a revision moves nothing, orders in flight at the migration pay once,
a system is "set up" only once its access runs, and tender terms naming systems buy one licence per system."""

import importlib
from decimal import Decimal

import pytest
from django.apps import apps

from billing.models import Charge, RecurringFee, SharedFee
from billing.quotes import frozen_quote
from ordering import services
from ordering.models import Addendum, ContractInterface, MainContract

from ..conftest import accept_rendered
from .test_fees_due_once import strip_keys

D = Decimal
NEW = "medarbejderoplysninger"
migration = importlib.import_module("billing.migrations.0009_shared_fees_of_orders_in_flight")


@pytest.fixture
def canteen_too(cast):
    cast.canteen.standard_interfaces.add(cast.interfaces[NEW])
    return cast.canteen


def activate(cast, order):
    order.refresh_from_db()
    return services.order_activate(order=accept_rendered(order=order, actor=cast.signatory_a), actor=cast.am_a)


def charges(prefix: str) -> list:
    return list(Charge.objects.filter(rule__startswith=prefix).order_by("pk").values_list("order_id", "amount"))


def test_a_fee_released_later_never_lands_on_an_old_order_whose_promise_was_kept(cast, order_in):
    """A paid VagtPlan's setup; B (test) named A. Both closed. C sets VagtPlan up again and is declined: B's
    promise was about A's fee, which A paid; B pays nothing now."""
    a = order_in("awaiting_signature", codes=("moedetidsplaner",))
    b = order_in("awaiting_signature", codes=("moedetidsplaner",), environment="test")
    a, b = activate(cast, a), activate(cast, b)
    services.order_close(order=a, actor=cast.am_a)
    services.order_close(order=b, actor=cast.am_a)
    c = order_in("awaiting_signature", codes=("moedetidsplaner",))
    assert [x.rule for x in frozen_quote(c).lines if x.rule.startswith("setup")] == ["setup_fee"]
    services.order_decline(order=c, actor=cast.signatory_a, comment="Ikke nu")
    assert charges("setup") == [(a.pk, D("5000.00"))]
    assert not SharedFee.objects.filter(charge__isnull=True).exists()


def test_a_licence_bought_again_and_released_is_not_charged_to_the_old_orders(cast, order_in, canteen_too):
    a = order_in("awaiting_signature", codes=(NEW,))
    b = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    a, b = activate(cast, a), activate(cast, b)
    services.order_close(order=a, actor=cast.am_a)
    services.order_close(order=b, actor=cast.am_a)  # ends the licence: nobody uses it any more
    c = order_in("awaiting_signature", codes=(NEW,))
    services.order_decline(order=c, actor=cast.signatory_a, comment="Ikke nu")
    assert charges("licence_start") == [(a.pk, D("10000.00"))]


def test_revising_the_order_that_buys_moves_nothing(cast, order_in, canteen_too):
    """The contract comes to cover the interface for all systems and A is revised: A no longer buys the licence,
    and B, whose addendum promised to pay only should A end unestablished, pays nothing either."""
    a = order_in("awaiting_signature", codes=(NEW,))
    b = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    ContractInterface.objects.create(contract=cast.customer_a.contract, interface=cast.interfaces[NEW])
    a = services.order_revise(order=a, actor=cast.am_a, comment="Kontrakten dækker nu snitfladen")
    assert not SharedFee.objects.filter(key=f"licence:{NEW}").exists()
    for order in (a, b):
        activate(cast, order)
    assert charges("licence_start") == []
    # Nor does B start a licence's monthly fee for a licence nobody buys.
    assert not RecurringFee.objects.filter(kind=RecurringFee.Kind.LICENCE).exists()


def two_orders_in_flight_before_the_deploy(order_in, canteen_too):
    """Two orders awaiting signature for the same new interface (the second for another system), as they
    stood before the fees due once were recorded: no keys on their quotes, no shared fees."""
    first = order_in("awaiting_signature", codes=(NEW,))
    SharedFee.objects.all().delete()
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    for order in (first, second):
        strip_keys(order)
    SharedFee.objects.all().delete()
    return first, second


def test_an_order_in_flight_established_before_the_holder_is_declined_pays_what_its_addendum_priced(
    cast, order_in, canteen_too
):
    first, second = two_orders_in_flight_before_the_deploy(order_in, canteen_too)
    migration.record_fees_of_orders_in_flight(apps, None)  # the licence start fee goes to `first`
    activate(cast, second)
    assert charges("licence_start") == []  # pending with `first`
    first.refresh_from_db()
    services.order_decline(order=first, actor=cast.signatory_a, comment="Fortrudt")
    assert charges("licence_start") == [(second.pk, D("10000.00"))]


def test_the_migration_gives_no_order_in_flight_a_fee_a_running_access_paid(cast, order_in, canteen_too):
    first, second = two_orders_in_flight_before_the_deploy(order_in, canteen_too)
    activate(cast, first)  # before the deploy: booked as priced
    migration.record_fees_of_orders_in_flight(apps, None)
    assert not SharedFee.objects.filter(key=f"licence:{NEW}").exists()
    activate(cast, second)
    assert charges("licence_start") == [(first.pk, D("10000.00"))]


def test_an_access_being_established_does_not_yet_count_as_set_up(cast, order_in):
    """A phase-out order (no setup fee) still being established is no setup: if it never is, the system's
    first access pays the setup fee."""
    phase_out = order_in(
        "provisioning",
        system=cast.canteen,
        codes=("engangsydelser",),
        reason="phase_out",
        replaces_file_interface=cast.ind01,
    )
    test = order_in("awaiting_signature", system=cast.canteen, codes=("engangsydelser",), environment="test")
    (line,) = [x for x in frozen_quote(test).lines if x.rule.startswith("setup")]
    assert (line.rule, line.amount) == ("setup_fee", D("5000.00"))
    services.order_emergency_close(order=phase_out, actor=cast.support, reason="Leverandøren trak sig")
    activate(cast, test)
    assert charges("setup") == [(test.pk, D("5000.00"))]


# --- Tender terms naming systems ---------------------------------------------------------------------------


@pytest.fixture
def tender_named(cast):
    MainContract.objects.filter(customer=cast.customer_a).update(terms="tender", licence_scope="named")


def test_under_tender_terms_one_systems_test_and_production_buy_one_licence(cast, order_in, tender_named):
    production = order_in("awaiting_signature", codes=(NEW,))
    test = order_in("awaiting_signature", codes=(NEW,), environment="test")
    (line,) = [x for x in frozen_quote(test).lines if x.interface == NEW and x.kind == "one_time"]
    assert line.rule == "licence_start_with_order" and "gælder VagtPlan" in line.da
    for order in (production, test):
        activate(cast, order)
    assert charges("licence_start") == [(production.pk, D("10000.00"))]


def test_under_tender_terms_a_second_system_in_flight_pays_the_additional_system_fee(
    cast, order_in, canteen_too, tender_named
):
    """As it would had it come after the first: the licence is bought once, each further system pays its fee."""
    first = order_in("awaiting_signature", codes=(NEW,))
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    (line,) = [x for x in frozen_quote(second).lines if x.interface == NEW]
    assert (line.rule, line.amount) == ("licence_additional_system", D("2500.00"))
    assert frozen_quote(second).monthly.excl_vat == D("0.00")
    for order in (first, second):
        activate(cast, order)
    assert charges("licence_start") == [(first.pk, D("10000.00"))]
    assert charges("licence_additional_system") == [(second.pk, D("2500.00"))]
    assert RecurringFee.objects.filter(kind=RecurringFee.Kind.LICENCE).count() == 1
    assert Addendum.objects.filter(order=second).count() == 1
