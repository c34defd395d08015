"""The setup fee once per external system, and replacement orders.

From "Integration til KMD Opus Personale", Køb af snitflader: "Opsætningsvederlag: I betaler et
engangsvederlag for opsætning af adgang til et eksternt system. Dette vederlag dækker omkostningerne
ved at erstatte et eksisterende system med et nyt eller tilføje et nyt system til opsætningen."
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from billing import pricing
from billing import services as billing
from billing.models import RecurringFee
from billing.quotes import quote_for_order
from core.errors import Invalid
from ordering import services
from ordering.audit import AuditKind
from ordering.models import State

from ..conftest import facts

D = Decimal


def setup_line(order) -> pricing.QuoteLine:
    quote, _price_list = quote_for_order(order)
    (line,) = [x for x in quote.lines if x.rule.startswith("setup")]
    return line


def test_a_new_system_is_quoted_the_setup_fee(cast, order_in):
    """ "Dette vederlag dækker omkostningerne ved at ... tilføje et nyt system til opsætningen." """
    order = order_in("submitted", codes=("moedetidsplaner",))
    line = setup_line(order)
    assert (line.rule, line.amount) == ("setup_fee", D("5000.00"))


def test_an_order_that_only_extends_a_system_already_set_up_pays_no_setup_fee_again(cast, order_in):
    """ "I betaler et engangsvederlag for opsætning af adgang til et eksternt system": once per system, so a later
    order for a system already in the setup shows 0 kr and names the order that set it up."""
    first = order_in("active", codes=("moedetidsplaner",))
    second = order_in("submitted", codes=("medarbejderoplysninger",))
    line = setup_line(second)
    assert (line.rule, line.amount) == ("setup_already_done", D("0.00"))
    assert line.da == (
        f"Intet opsætningsvederlag: VagtPlan er allerede sat op ({first.reference}); vederlaget betales én gang pr. "
        "eksternt system, i test- og produktionsmiljøet tilsammen."
    )


def test_a_closed_access_no_longer_counts_as_set_up(cast, order_in):
    """A system whose access was closed has left the setup: adding it again is "tilføje et nyt system"."""
    order_in("closed", codes=("moedetidsplaner",))
    again = order_in("submitted", codes=("medarbejderoplysninger",))
    assert setup_line(again).rule == "setup_fee"


def test_the_account_manager_can_still_adjust_the_zero_setup_line(cast, order_in):
    """The 0 kr line is the rule's answer; the account manager may still agree a setup charge."""
    order_in("active", codes=("moedetidsplaner",))
    second = order_in("submitted", codes=("medarbejderoplysninger",))
    billing.quote_adjustment_add(
        order=second, actor=cast.am_a, kind="one_time", amount=D("2500"), reason="Ekstra opsætning"
    )
    quote, _price_list = quote_for_order(second)
    assert [(x.rule, x.amount) for x in quote.lines if x.rule in ("setup_already_done", "adjustment")] == [
        ("setup_already_done", D("0.00")),
        ("adjustment", D("2500.00")),
    ]


def test_the_pricing_core_reads_the_earlier_setup_from_its_facts():
    """The pure core is told "already set up by <ref>"; it never looks it up itself."""
    prices = pricing.PriceFacts("P", {}, {"pk": D("100")}, D("7500.00"), D("0"), D("0"), D("0.25"))
    base = {"purchase_model": "package", "system_id": 1, "system_name": "VagtPlan", "package_code": "pk"}
    fresh = pricing.quote(pricing.OrderFacts(**base), pricing.ContractFacts(), prices)
    again = pricing.quote(pricing.OrderFacts(**base, set_up_by="OA-000012"), pricing.ContractFacts(), prices)
    assert fresh.one_time.excl_vat == D("7500.00") and again.one_time.excl_vat == D("0.00")
    assert "allerede sat op (OA-000012)" in again.lines[-1].da


# --- Replacement orders ------------------------------------------------------------------------


def test_a_replacement_is_quoted_the_setup_fee_and_names_the_access_it_replaces(cast, order_in):
    """ "Dette vederlag dækker omkostningerne ved at erstatte et eksisterende system med et nyt." """
    old = order_in("active", codes=("moedetidsplaner",))
    new = order_in("submitted", system=cast.canteen, codes=("engangsydelser",), replaces_order=old)
    line = setup_line(new)
    assert (line.rule, line.amount) == ("setup_fee_replacement", D("5000.00"))
    assert f"erstatter VagtPlan ({old.reference})" in line.da


def test_establishing_a_replacement_closes_the_old_access_the_same_day_with_its_billing(cast, order_in):
    """ "... at erstatte et eksisterende system med et nyt": when the new system's access is established, the
    replaced one closes that day, and its fees stop."""
    old = order_in("active", purchase_model="package", package=cast.package, codes=())
    new = order_in("active", system=cast.canteen, codes=("engangsydelser",), replaces_order=old)
    old.refresh_from_db()
    assert (old.state, old.closed_on) == (State.CLOSED, new.activated_on)
    assert RecurringFee.objects.get(order=old, kind="package").ends_on == new.activated_on
    closing = AuditEvent.objects.filter(order=old).latest("seq")
    assert closing.kind == AuditKind.CLOSE and closing.params == {"replaced_by": new.reference}


def test_a_replacement_names_a_live_access_of_another_system(cast, order_in):
    """Replacing means another system's existing access: not the same system, not a closed access."""
    live = order_in("active", codes=("moedetidsplaner",))
    closed = order_in("closed", system=cast.canteen, codes=("engangsydelser",))
    for system, replaced, field_text in [
        (cast.rostering, live, "kan ikke erstatte sig selv"),
        (cast.canteen, closed, "aktive adgange"),
    ]:
        with pytest.raises(Invalid) as refused:
            services.order_create(
                actor=cast.orderer_a,
                customer=cast.customer_a,
                facts=facts(cast, system=system, codes=("medarbejderoplysninger",), replaces_order=replaced),
            )
        assert field_text in refused.value.errors["replaces_order"]
    other_customers = order_in("active", customer=cast.customer_b, codes=("moedetidsplaner",))
    with pytest.raises(Invalid):
        services.order_create(
            actor=cast.orderer_a,
            customer=cast.customer_a,
            facts=facts(cast, system=cast.canteen, codes=("engangsydelser",), replaces_order=other_customers),
        )


def test_the_order_form_offers_the_customers_live_accesses(cast, order_in, client):
    """The replacement names the access it replaces: the form lists the customer's live accesses only."""
    mine = order_in("active", codes=("moedetidsplaner",))
    theirs = order_in("active", customer=cast.customer_b, codes=("moedetidsplaner",))
    client.force_login(cast.orderer_a)
    body = client.get(reverse("ordering:order_create")).content.decode()
    start = body.index('name="replaces_order"')
    options = body[start : body.index("</select>", start)]
    assert mine.reference in options and theirs.reference not in options
