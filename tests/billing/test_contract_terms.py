"""The main contract's terms decide whom a licence serves, and the quote says so."""

from decimal import Decimal

import pytest

from billing import quotes
from billing.pricing import (
    LICENCE_MONTHLY_RULES,
    ContractFacts,
    InterfaceFacts,
    InterfacePrice,
    OrderFacts,
    PriceFacts,
    quote,
)
from ordering.models import MainContract

D = Decimal
KVOTER = InterfaceFacts("hent-fravaerskvoter", "Hent fraværskvoter", "Read absence quotas")
PRICES = PriceFacts(
    name="Prisliste 2026",
    interfaces={"hent-fravaerskvoter": InterfacePrice(D("12000.00"), D("950.00"), D("4000.00"))},
    packages={},
    setup_fee=D("7500.00"),
    startup_package=D("35000.00"),
    consulting_hourly=D("1450.00"),
    vat_rate=D("0.25"),
)
STANDARD = ContractFacts("HA-1", terms="standard")
TENDER_ALL = ContractFacts("UDB-1", terms="tender", licence_scope="all")
TENDER_NAMED = ContractFacts("UDB-1", terms="tender", licence_scope="named")


def roster(**kwargs) -> OrderFacts:
    return OrderFacts(purchase_model="single", system_id=7, system_name="VagtPlan", interfaces=(KVOTER,), **kwargs)


def licence_line(q):
    (line,) = [x for x in q.lines if x.interface == "hent-fravaerskvoter"]
    return line


def test_on_standard_terms_a_licence_held_serves_every_system_and_the_quote_says_so():
    """ "Hvis I har købt disse på standardvilkår (dvs. ikke som led af eks. udbud), har I adgang til at anvende
    disse til alle de eksterne systemer, I ønsker." """
    line = licence_line(quote(roster(licensed=frozenset({"hent-fravaerskvoter"})), STANDARD, PRICES))
    assert (line.rule, line.amount) == ("already_licensed", D("0.00"))
    assert "standardvilkår" in line.da and "alle jeres systemer" in line.da
    assert "standard terms" in line.en


def test_a_new_licence_on_standard_terms_is_explained_as_serving_all_systems():
    q = quote(roster(), STANDARD, PRICES)
    monthly = q.lines_of("monthly")[0]
    assert (monthly.rule, monthly.amount) == ("licence_monthly", D("950.00"))
    assert "købt på standardvilkår gælder licensen alle jeres systemer" in monthly.da


def test_under_tender_terms_saying_all_systems_a_licence_held_serves_every_system():
    """ "Afhængig af jeres kontrakt, kan I have købt generel adgang til alle de eksterne systemer, I ønsker at
    anvende med den pågældende snitflade. Vilkårene varierer dog og kan være specifikt formuleret i forbindelse
    med et udbud." """
    line = licence_line(quote(roster(licensed=frozenset({"hent-fravaerskvoter"})), TENDER_ALL, PRICES))
    assert (line.rule, line.amount) == ("already_licensed", D("0.00"))
    assert "udbud" in line.da


def test_under_tender_terms_for_named_systems_another_system_pays_the_additional_system_fee():
    """ "Hvis jeres kontrakt kun dækker integration til bestemte systemer, og I ønsker at tilføje flere systemer,
    kræver det betaling af et yderligere engangsvederlag." """
    q = quote(roster(licensed=frozenset({"hent-fravaerskvoter"})), TENDER_NAMED, PRICES)
    line = licence_line(q)
    assert (line.rule, line.kind, line.amount) == ("licence_additional_system", "one_time", D("4000.00"))
    assert "VagtPlan" in line.da and "udbud" in line.da
    assert q.monthly.excl_vat == D("0.00")  # the licence's monthly fee is paid once, by the customer


def test_under_tender_terms_for_named_systems_a_system_the_licence_serves_pays_nothing_more():
    held = frozenset({"hent-fravaerskvoter"})
    line = licence_line(quote(roster(licensed=held, licensed_for_system=held), TENDER_NAMED, PRICES))
    assert (line.rule, line.amount) == ("licence_serves_system", D("0.00"))


def test_a_new_licence_under_tender_terms_for_named_systems_says_whom_it_serves():
    q = quote(roster(), TENDER_NAMED, PRICES)
    monthly = q.lines_of("monthly")[0]
    assert monthly.rule == "licence_monthly_named" and monthly.rule in LICENCE_MONTHLY_RULES
    assert "gælder licensen VagtPlan" in monthly.da


def test_standard_terms_cannot_tie_licences_to_named_systems(cast):
    """The database holds the document's rule: standard terms mean a licence serves all systems."""
    from django.db import IntegrityError, transaction

    contract = MainContract.objects.get(customer=cast.customer_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        MainContract.objects.filter(pk=contract.pk).update(licence_scope="named")


@pytest.mark.parametrize(("scope", "rule"), [("named", "licence_additional_system"), ("all", "already_licensed")])
def test_the_live_quote_reads_the_contracts_terms(cast, order_in, scope, rule):
    """Odense-like: a tender contract; a licence bought for VagtPlan, then an order for KantineKort."""
    tender(cast, scope)
    order_in("active", codes=("moedetidsplaner",))  # VagtPlan buys the licence
    second = order_in("draft", system=cast.canteen, codes=("moedetidsplaner",))
    q, _price_list = quotes.quote_for_order(second)
    assert licence_line_of(q, "moedetidsplaner").rule == rule


def test_the_system_that_holds_the_licence_is_served_by_it_under_named_terms(cast, order_in):
    tender(cast, "named")
    order_in("active", codes=("moedetidsplaner",))
    again = order_in("draft", codes=("moedetidsplaner",), environment="test")
    q, _price_list = quotes.quote_for_order(again)
    assert licence_line_of(q, "moedetidsplaner").rule == "licence_serves_system"


def tender(cast, scope: str) -> None:
    contract = cast.customer_a.contract
    contract.terms, contract.licence_scope = "tender", scope
    contract.save()


def licence_line_of(q, code):
    (line,) = [x for x in q.lines if x.interface == code and x.kind == "one_time"]
    return line
