"""What a quote reads from the database, and in how few queries: the order page and the new-order form's preview
quote on every request, and each query costs the page its SQL compiled and run."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from billing import quotes, selectors
from billing.errors import NotAllowedNow
from billing.models import PackagePrice
from billing.pricing import ContractFacts, ContractLine, InterfacePrice
from ordering.consulting import consulting_request_create
from ordering.models import AccessOrder, ContractInterface, IntegrationPackage, MainContract, State
from ordering.roles import Role

D = Decimal


def test_the_price_list_in_force_and_its_prices_are_two_queries(cast, django_assert_num_queries):
    # A package may share its code with an interface: each price still lands with its own kind.
    clash = IntegrationPackage.objects.create(code="opret-fravaer", name_da="Fravær", external_system=cast.canteen)
    PackagePrice.objects.create(price_list=cast.price_list, package=clash, monthly_fee=D("4100.00"))
    with django_assert_num_queries(2):
        prices = quotes.price_facts(quotes.price_list_on(datetime.date(2026, 6, 1)))
    assert prices.name == str(cast.price_list)
    assert prices.interfaces["opret-fravaer"] == InterfacePrice(D("10000.00"), D("3100.00"), D("2500.00"))
    assert set(prices.interfaces) == set(cast.interfaces)
    assert prices.packages == {"vagtplanpakke": D("6200.00"), "opret-fravaer": D("4100.00")}
    assert (prices.setup_fee, prices.startup_package, prices.consulting_hourly, prices.vat_rate) == (
        D("5000.00"),
        D("25000.00"),
        D("1500.00"),
        D("0.2500"),
    )


def test_a_price_list_without_prices_quotes_nothing_rather_than_failing(cast):
    cast.price_list.interface_prices.all().delete()
    cast.price_list.package_prices.all().delete()
    prices = quotes.price_facts(quotes.price_list_on(datetime.date(2026, 6, 1)))
    assert (prices.interfaces, prices.packages) == ({}, {})


def test_no_price_list_in_force_is_refused_in_a_sentence(cast):
    with pytest.raises(NotAllowedNow, match="ingen gældende prisliste den 31.12.2019"):
        quotes.price_list_on(datetime.date(2019, 12, 31))


def test_the_contract_its_lines_and_their_named_systems_are_one_query(cast, django_assert_num_queries):
    contract = cast.customer_a.contract
    MainContract.objects.filter(pk=contract.pk).update(reference="UDB-7", terms="tender", licence_scope="named")
    web = cast.interfaces
    named = ContractInterface.objects.create(contract=contract, interface=web["engangsydelser"], coverage="named")
    named.named_systems.set([cast.rostering, cast.canteen])
    ContractInterface.objects.create(contract=contract, interface=web["moedetidsplaner"], coverage="named")
    with django_assert_num_queries(1):
        facts = quotes.contract_facts(cast.customer_a)
    assert facts == ContractFacts(
        reference="UDB-7",
        terms="tender",
        licence_scope="named",
        included={
            "opret-fravaer": ContractLine("all"),
            "engangsydelser": ContractLine("named", frozenset({cast.rostering.pk, cast.canteen.pk})),
            "moedetidsplaner": ContractLine("named"),
        },
    )


def test_a_customer_without_a_contract_or_lines_has_the_standard_facts(cast):
    assert quotes.contract_facts(cast.customer_b) == ContractFacts()
    MainContract.objects.create(customer=cast.customer_b, reference="HB-1")
    assert quotes.contract_facts(cast.customer_b) == ContractFacts(reference="HB-1")


def test_the_page_quotes_the_interfaces_it_has_read_and_a_service_reads_them_afresh(cast, order_in):
    order = order_in("submitted")
    as_read = order.requested_interfaces()
    order.interfaces.add(cast.interfaces["moedetidsplaner"])
    codes = lambda quote: {line.interface for line in quote.lines if line.interface}  # noqa: E731
    assert codes(quotes.quote_for_order(order, interfaces=as_read)[0]) == {"opret-fravaer"}
    assert codes(quotes.quote_for_order(order)[0]) == {"opret-fravaer", "moedetidsplaner"}


def test_consulting_days_from_the_order_as_the_page_read_it_and_afresh_for_the_service(
    cast, order_in, django_assert_num_queries
):
    order = order_in("submitted")
    asked = consulting_request_create(
        actor=cast.orderer_a, customer=cast.customer_a, order=order, kind="reactive", message="Hjælp, tak."
    )
    page_read = AccessOrder.objects.prefetch_related("consulting_requests").get(pk=order.pk)
    # Meanwhile the access is established (as its services would leave it).
    activated = timezone.localdate() - datetime.timedelta(days=3)
    AccessOrder.objects.filter(pk=order.pk).update(state=State.ACTIVE, activated_on=activated)
    with django_assert_num_queries(0):
        assert selectors.consulting_days(page_read, cast.customer_a.pk, fresh=False) == [
            (asked.requested_on, timezone.localdate())
        ]
    assert selectors.consulting_days(page_read, cast.customer_a.pk) == [
        (asked.requested_on, timezone.localdate()),
        (activated, timezone.localdate()),
    ]
    refused = selectors.consulting_refusal(page_read, cast.customer_a, {Role.ACCOUNT_MANAGER}, fresh=False)
    assert refused is None


def test_the_page_refuses_consulting_before_anyone_asked_as_the_service_does(cast, order_in):
    order = order_in("submitted")
    page_read = AccessOrder.objects.prefetch_related("consulting_requests").get(pk=order.pk)
    for fresh in (False, True):
        refusal = selectors.consulting_refusal(page_read, cast.customer_a, {Role.ACCOUNT_MANAGER}, fresh=fresh)
        assert "når kunden har bedt KMD om hjælp til bestillingen" in str(refusal)
