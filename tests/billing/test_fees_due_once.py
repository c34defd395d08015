"""Fees due once for the customer, however many orders need them (billing/pricing.py, "Fees due once").

From "Integration til KMD Opus Personale":
- "Hvis I har købt disse på standardvilkår (dvs. ikke som led af eks. udbud), har I adgang til at anvende
  disse til alle de eksterne systemer, I ønsker": one licence start fee per customer and interface, even when
  two systems order the same new interface before either access is established;
- "Vederlag for opsætning af adgang: Der betales for opsætning af adgang for hvert eksterne system": once per
  system, in the test and the production environment together;
- "Hvis jeres kontrakt kun dækker integration til bestemte systemer, og I ønsker at tilføje flere systemer,
  kræver det betaling af et yderligere engangsvederlag": once per system; then the contract covers it.

Each case checks that the live quote, the frozen addendum and the invoice agree.
"""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from billing import services as billing
from billing.audit import BillingAuditKind
from billing.models import Charge, InvoiceLine, RecurringFee, SharedFee
from billing.quotes import frozen_quote, quote_for_order
from ordering import services
from ordering.models import ContractInterface, MainContract
from tests.pages import order_page_text

from ..conftest import accept_rendered, make_order

D = Decimal
NEW = "medarbejderoplysninger"  # not in customer A's contract: a licence start fee of 10.000 kr.


@pytest.fixture
def canteen_too(cast):
    """The canteen system may use the new interface as standard integration as well (no certificate needed)."""
    cast.canteen.standard_interfaces.add(cast.interfaces[NEW])
    return cast.canteen


def lines(quote, rule_prefix: str):
    return [line for line in quote.lines if line.rule.startswith(rule_prefix)]


def one_time_charges(customer, rule: str):
    return list(Charge.objects.filter(customer=customer, rule=rule).order_by("pk"))


def invoice_for_this_month(customer):
    run = billing.billing_run(period=timezone.localdate(), force=True)
    return list(InvoiceLine.objects.filter(invoice__run=run, invoice__customer=customer).order_by("pk"))


def test_two_orders_racing_for_a_new_interface_pay_one_licence_start_fee(cast, order_in, canteen_too):
    first = order_in("awaiting_signature", codes=(NEW,))
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))

    (paid,) = lines(frozen_quote(first), "licence_start")
    (named,) = lines(frozen_quote(second), "licence_start")
    assert (paid.rule, paid.amount) == ("licence_start", D("10000.00"))
    assert (named.rule, named.amount, named.if_moved) == ("licence_start_with_order", D("0.00"), D("10000.00"))
    assert f"licensen købes med {first.reference}" in named.da
    assert "med denne bestilling i stedet – én gang" in named.da
    # The second addendum prints no monthly fee it would never bill: the licence's fee is paid once.
    (monthly,) = frozen_quote(second).lines_of("monthly")
    assert (monthly.rule, monthly.amount) == ("licence_monthly_with_order", D("0.00"))
    assert frozen_quote(second).monthly.excl_vat == D("0.00")
    # The live quote of each says what its addendum says.
    assert quote_for_order(second)[0].lines == frozen_quote(second).lines
    assert quote_for_order(first)[0].lines == frozen_quote(first).lines

    for order in (first, second):
        order = accept_rendered(order=order, actor=cast.signatory_a)
        services.order_activate(order=order, actor=cast.am_a)

    charges = one_time_charges(cast.customer_a, "licence_start")
    assert [(c.order_id, c.amount) for c in charges] == [(first.pk, D("10000.00"))]
    assert not one_time_charges(cast.customer_a, "licence_start_with_order")
    licences = RecurringFee.objects.filter(customer=cast.customer_a, kind=RecurringFee.Kind.LICENCE)
    assert [(fee.order_id, fee.monthly_fee) for fee in licences] == [(first.pk, D("3100.00"))]
    invoice = invoice_for_this_month(cast.customer_a)
    licence_lines = [line for line in invoice if "Opstartsvederlag for licens" in line.description_da]
    assert [(line.order_id, line.amount) for line in licence_lines] == [(first.pk, D("10000.00"))]


def test_a_third_order_names_the_order_that_buys_the_licence_while_it_is_pending(cast, order_in, canteen_too):
    first = order_in("awaiting_signature", codes=(NEW,))
    third = order_in("submitted", system=canteen_too, codes=(NEW,))
    (line,) = lines(quote_for_order(third)[0], "licence_start")
    assert line.rule == "licence_start_with_order" and first.reference in line.da


def test_the_fee_moves_to_the_next_order_when_the_first_is_declined(cast, order_in, canteen_too):
    first = order_in("awaiting_signature", codes=(NEW,))
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))

    services.order_decline(order=first, actor=cast.signatory_a, comment="Forkert system")

    fee = SharedFee.objects.get(customer=cast.customer_a, key=f"licence:{NEW}")
    assert (fee.order_id, fee.moved_from_id, fee.charge_id) == (second.pk, first.pk, None)
    moved = AuditEvent.objects.get(kind=BillingAuditKind.SHARED_FEE_MOVED)
    assert moved.order_id == second.pk and f"{first.reference} → {second.reference}" in moved.comment
    # The second order's live quote now prices the fee itself, as its addendum said it would.
    (live,) = lines(quote_for_order(second)[0], "licence_start")
    assert (live.rule, live.amount) == ("licence_start", D("10000.00"))
    # The first, issued again, names the second: the fee is still paid once.
    first.refresh_from_db()
    first = services.order_issue_addendum(order=first, actor=cast.am_a)
    (again,) = lines(frozen_quote(first), "licence_start")
    assert again.rule == "licence_start_with_order" and second.reference in again.da

    second = accept_rendered(order=second, actor=cast.signatory_a)
    services.order_activate(order=second, actor=cast.am_a)
    first = accept_rendered(order=first, actor=cast.signatory_a)
    services.order_activate(order=first, actor=cast.am_a)

    charges = one_time_charges(cast.customer_a, "licence_start_with_order") + one_time_charges(
        cast.customer_a, "licence_start"
    )
    assert [(c.order_id, c.amount) for c in charges] == [(second.pk, D("10000.00"))]
    fee.refresh_from_db()
    assert fee.charge_id == charges[0].pk
    invoice = invoice_for_this_month(cast.customer_a)
    assert [(line.order_id, line.amount) for line in invoice if line.charge_id == charges[0].pk] == [
        (second.pk, D("10000.00"))
    ]
    assert RecurringFee.objects.filter(customer=cast.customer_a, kind=RecurringFee.Kind.LICENCE).count() == 1


def test_the_order_page_says_where_a_moved_fee_came_from_without_reading_that_order(
    cast, order_in, canteen_too, client
):
    """The second order's page names the declined first as where the fee came from, and when it is booked; the
    first order itself is not read for its reference (a query per moved fee)."""
    first = order_in("awaiting_signature", codes=(NEW,))
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    services.order_decline(order=first, actor=cast.signatory_a, comment="Forkert system")
    with CaptureQueriesContext(connection) as queries:
        page = order_page_text(client, cast.orderer_a, second)
    assert f"er flyttet til denne bestilling: {first.reference} blev afsluttet" in page
    assert "Det bogføres, når adgangen er etableret." in page
    fee_reads = [q["sql"] for q in queries if 'FROM "billing_sharedfee"' in q["sql"] and "moved_from_id" in q["sql"]]
    assert len(fee_reads) == 1 and '"ordering_accessorder"' not in fee_reads[0]  # no order joined
    assert "er flyttet til denne bestilling" not in order_page_text(client, cast.orderer_a, first)


def test_the_fee_moves_to_an_order_already_established_and_is_booked_at_once(cast, order_in, canteen_too):
    """The second access was established first (its monthly fee started then); the first is then closed in an
    emergency before its access was ever established: the start fee moves to the second and is booked that day."""
    first = order_in("provisioning", codes=(NEW,))
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    second = accept_rendered(order=second, actor=cast.signatory_a)
    services.order_activate(order=second, actor=cast.am_a)
    assert not one_time_charges(cast.customer_a, "licence_start_with_order")
    (licence,) = RecurringFee.objects.filter(customer=cast.customer_a, kind=RecurringFee.Kind.LICENCE)
    assert (licence.order_id, licence.monthly_fee) == (second.pk, D("3100.00"))

    services.order_emergency_close(order=first, actor=cast.support, reason="Sikkerhedsbrud hos leverandøren")

    (charge,) = one_time_charges(cast.customer_a, "licence_start_with_order")
    assert (charge.order_id, charge.amount, charge.booked_on) == (second.pk, D("10000.00"), timezone.localdate())
    assert SharedFee.objects.get(key=f"licence:{NEW}").charge_id == charge.pk
    assert not SharedFee.objects.filter(charge__isnull=True).exists()


def test_a_fee_nobody_else_needs_is_forgotten_and_the_next_order_pays_it(cast, order_in, canteen_too):
    first = order_in("awaiting_signature", codes=(NEW,))
    services.order_decline(order=first, actor=cast.signatory_a, comment="Ikke nu")
    assert not SharedFee.objects.exists()
    later = order_in("submitted", system=canteen_too, codes=(NEW,))
    (line,) = lines(quote_for_order(later)[0], "licence_start")
    assert (line.rule, line.amount) == ("licence_start", D("10000.00"))


def test_when_the_first_is_established_first_the_other_books_nothing_more(cast, order_in, canteen_too):
    first = order_in("awaiting_signature", codes=(NEW,))
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    services.order_activate(order=accept_rendered(order=first, actor=cast.signatory_a), actor=cast.am_a)
    # The first's fee is paid: the second, declined and issued again, is priced as already licensed.
    services.order_decline(order=second, actor=cast.signatory_a, comment="Ny version, tak")
    second.refresh_from_db()
    second = services.order_issue_addendum(order=second, actor=cast.am_a)
    (line,) = lines(frozen_quote(second), "already_licensed")
    assert line.amount == D("0.00")
    services.order_activate(order=accept_rendered(order=second, actor=cast.signatory_a), actor=cast.am_a)
    assert [c.order_id for c in Charge.objects.filter(rule__startswith="licence_start")] == [first.pk]


def test_tender_terms_naming_systems_keep_a_licence_per_system(cast, order_in, canteen_too):
    """Tender terms ("udbud") keep their own scope: the second system pays the additional-system fee, not a share
    of one licence serving all (tests/billing/test_fees_due_once_edges.py has the rest)."""
    MainContract.objects.filter(customer=cast.customer_a).update(terms="tender", licence_scope="named")
    order_in("awaiting_signature", codes=(NEW,))
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    (line,) = lines(frozen_quote(second), "licence_additional_system")
    assert line.amount == D("2500.00")


# --- The setup fee: once per external system, in both environments -----------------------------


def setup(quote):
    (line,) = lines(quote, "setup")
    return line


def test_a_system_set_up_in_production_pays_no_setup_fee_for_its_test_access(cast, order_in):
    production = order_in("active", codes=("moedetidsplaner",))
    test = order_in("submitted", codes=("moedetidsplaner",), environment="test")
    line = setup(quote_for_order(test)[0])
    assert (line.rule, line.amount) == ("setup_already_done", D("0.00"))
    assert production.reference in line.da and "test- og produktionsmiljøet tilsammen" in line.da


def test_test_and_production_orders_racing_for_one_system_pay_one_setup_fee(cast, order_in):
    production = order_in("awaiting_signature", codes=("moedetidsplaner",))
    test = order_in("awaiting_signature", codes=("moedetidsplaner",), environment="test")
    assert (setup(frozen_quote(production)).rule, setup(frozen_quote(production)).amount) == (
        "setup_fee",
        D("5000.00"),
    )
    named = setup(frozen_quote(test))
    assert (named.rule, named.amount, named.if_moved) == ("setup_with_order", D("0.00"), D("5000.00"))
    assert production.reference in named.da

    for order in (test, production):
        services.order_activate(order=accept_rendered(order=order, actor=cast.signatory_a), actor=cast.am_a)

    charges = Charge.objects.filter(rule__startswith="setup")
    assert [(c.order_id, c.amount) for c in charges] == [(production.pk, D("5000.00"))]
    invoice = invoice_for_this_month(cast.customer_a)
    assert [line.amount for line in invoice if "Opsætningsvederlag" in line.description_da] == [D("5000.00")]


def test_the_setup_fee_moves_to_the_other_environment_when_the_first_is_declined(cast, order_in):
    production = order_in("awaiting_signature", codes=("moedetidsplaner",))
    test = order_in("awaiting_signature", codes=("moedetidsplaner",), environment="test")
    services.order_decline(order=production, actor=cast.signatory_a, comment="Vi starter i test")
    services.order_activate(order=accept_rendered(order=test, actor=cast.signatory_a), actor=cast.am_a)
    (charge,) = Charge.objects.filter(rule__startswith="setup")
    assert (charge.order_id, charge.rule, charge.amount) == (test.pk, "setup_with_order", D("5000.00"))


def test_a_startup_packages_test_access_is_not_a_setup(cast, individual_order):
    """The startup package covers its test access (no setup fee was paid for it); the system's first real access
    is set up and pays the setup fee, once."""
    individual_order("active", startup_package=True)
    production = make_order(cast, "draft", system=cast.own_system, codes=("engangsydelser",))
    line = setup(quote_for_order(production)[0])
    assert (line.rule, line.amount) == ("setup_fee", D("5000.00"))


def test_an_ordinary_test_access_is_a_setup(cast, individual_order):
    test = individual_order("active")
    production = make_order(cast, "draft", system=cast.own_system, codes=("engangsydelser",))
    line = setup(quote_for_order(production)[0])
    assert (line.rule, line.amount) == ("setup_already_done", D("0.00")) and test.reference in line.da


# --- The additional-system fee: once per system, then the contract covers it --------------------


@pytest.fixture
def named_contract(cast):
    """Customer A's contract covers Medarbejderoplysninger for the canteen system only."""
    line = ContractInterface.objects.create(
        contract=cast.customer_a.contract, interface=cast.interfaces[NEW], coverage="named"
    )
    line.named_systems.set([cast.canteen])
    return line


def test_the_additional_system_fee_is_paid_once_and_then_the_contract_covers_the_system(cast, order_in, named_contract):
    first = order_in("active", codes=(NEW,))
    (charge,) = Charge.objects.filter(rule="additional_system")
    assert (charge.order_id, charge.amount) == (first.pk, D("2500.00"))
    covered = AuditEvent.objects.get(kind=BillingAuditKind.ADDITIONAL_SYSTEM_COVERED)
    assert covered.order_id == first.pk and "VagtPlan" in covered.comment and NEW in covered.comment

    # The access ends; a later order for the same system and interface pays no fee again.
    services.order_close(order=first, actor=cast.am_a)
    later = order_in("submitted", codes=(NEW,))
    (line,) = [x for x in quote_for_order(later)[0].lines if x.interface == NEW]
    assert (line.rule, line.amount) == ("covered_after_additional_fee", D("0.00"))
    assert first.reference in line.da
    services.order_activate(
        order=accept_rendered(
            order=services.order_issue_addendum(order=later, actor=cast.am_a), actor=cast.signatory_a
        ),
        actor=cast.am_a,
    )
    assert Charge.objects.filter(rule__startswith="additional_system").count() == 1


def test_two_orders_for_one_further_system_pay_its_fee_once(cast, order_in, named_contract):
    production = order_in("awaiting_signature", codes=(NEW,))
    test = order_in("awaiting_signature", codes=(NEW,), environment="test")
    (named,) = [x for x in frozen_quote(test).lines if x.interface == NEW]
    assert (named.rule, named.amount, named.if_moved) == ("additional_system_with_order", D("0.00"), D("2500.00"))
    for order in (production, test):
        services.order_activate(order=accept_rendered(order=order, actor=cast.signatory_a), actor=cast.am_a)
    assert [c.order_id for c in Charge.objects.filter(rule__startswith="additional_system")] == [production.pk]


def test_the_activation_books_a_quote_frozen_before_fees_due_once_as_it_was_priced(cast, order_in):
    """An addendum issued before this change has no keys: its lines are booked as they were priced."""
    order = order_in("awaiting_signature", codes=(NEW,))
    addendum = order.addenda.get()
    quote = dict(addendum.quote)
    quote["lines"] = [{k: v for k, v in line.items() if k not in ("key", "if_moved")} for line in quote["lines"]]
    type(addendum).objects.filter(pk=addendum.pk).update(quote=quote)
    SharedFee.objects.all().delete()
    services.order_activate(order=accept_rendered(order=order, actor=cast.signatory_a), actor=cast.am_a)
    assert sorted(c.amount for c in Charge.objects.filter(order=order)) == [D("5000.00"), D("10000.00")]


def test_activation_date_check_still_reads_the_accepted_version(cast, order_in):
    order = order_in("provisioning", codes=(NEW,))
    with pytest.raises(services.Invalid):
        services.order_activate(order=order, actor=cast.am_a, on=timezone.localdate() - datetime.timedelta(days=1))
    assert not Charge.objects.exists()


# --- What the pages say ----------------------------------------------------------------------------


def test_the_order_page_says_the_fee_moved_to_it(cast, order_in, canteen_too, client):
    first = order_in("awaiting_signature", codes=(NEW,))
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    services.order_decline(order=first, actor=cast.signatory_a, comment="Forkert system")
    client.force_login(cast.orderer_a)
    page = client.get(reverse("ordering:order_detail", args=[second.pk])).content.decode()
    assert f"{first.reference} blev afsluttet, før adgangen blev etableret" in page
    other = client.get(reverse("ordering:order_detail", args=[first.pk])).content.decode()
    assert "blev afsluttet, før adgangen blev etableret" not in other


def test_the_licences_page_lists_the_systems_covered_after_their_fee(cast, order_in, named_contract, client):
    paid = order_in("active", codes=(NEW,))
    client.force_login(cast.am_a)
    page = client.get(reverse("billing:licence_list")).content.decode()
    assert paid.reference in page and "VagtPlan" in page and "2.500,00 kr." in page
    # Support sees every customer's, the customer's own people theirs; nobody else's.
    for who, sees in ((cast.support, True), (cast.orderer_a, True), (cast.am_b, False), (cast.orderer_b, False)):
        client.force_login(who)
        assert (paid.reference in client.get(reverse("billing:licence_list")).content.decode()) is sees, who


@pytest.mark.weasyprint
def test_the_second_addendum_says_whose_licence_it_uses_and_what_happens_if_that_order_ends(
    cast, order_in, canteen_too
):
    from ordering.models import Addendum

    from ..ordering.test_addendum_wording import flat, pdf_reader, pdf_text

    first = order_in("awaiting_signature", codes=(NEW,))
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    addendum = services.addendum_render(second.addenda.get(status=Addendum.Status.ISSUED).pk)
    text = flat(pdf_text(pdf_reader(addendum)))
    assert f"licensen købes med {first.reference} og gælder alle eksterne systemer" in text
    assert "betales opstartsvederlaget (10.000,00 kr.) med denne bestilling i stedet – én gang" in text
    # No monthly licence fee of its own is printed as due: the licence's fee is paid once.
    assert "fra den første adgang til snitfladen er etableret" in text


# --- Orders in flight when fees due once came -------------------------------------------------------


def strip_keys(order):
    """The order's addendum as it was frozen before fees due once were tracked: no keys, no fees recorded."""
    from ordering.models import Addendum

    addendum = order.addenda.exclude(status=Addendum.Status.SUPERSEDED).get()
    quote = dict(addendum.quote)
    quote["lines"] = [{k: v for k, v in line.items() if k not in ("key", "if_moved")} for line in quote["lines"]]
    Addendum.objects.filter(pk=addendum.pk).update(quote=quote)


def test_the_migration_gives_each_fee_of_orders_in_flight_to_the_first_that_priced_it(cast, order_in, canteen_too):
    """The double charge the issue saw (two 15.000 kr. start fees): both addenda priced the licence start fee."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("billing.migrations.0009_shared_fees_of_orders_in_flight")
    first = order_in("awaiting_signature", codes=(NEW,))
    SharedFee.objects.all().delete()  # the second prices the fee too, as before the change
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    assert lines(frozen_quote(second), "licence_start")[0].rule == "licence_start"
    for order in (first, second):
        strip_keys(order)
    SharedFee.objects.all().delete()

    migration.record_fees_of_orders_in_flight(apps, None)

    assert sorted(SharedFee.objects.values_list("key", "order_id")) == sorted(
        [(f"licence:{NEW}", first.pk), (f"setup:{cast.rostering.pk}", first.pk), (f"setup:{canteen_too.pk}", second.pk)]
    )
    for order in (second, first):
        order.refresh_from_db()
        services.order_activate(order=accept_rendered(order=order, actor=cast.signatory_a), actor=cast.am_a)
    assert [(c.order_id, c.amount) for c in Charge.objects.filter(rule="licence_start")] == [(first.pk, D("10000.00"))]


def test_an_earlier_line_is_not_booked_again_once_its_licence_runs(cast, order_in, canteen_too):
    first = order_in("active", codes=(NEW,))
    SharedFee.objects.all().delete()
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    addendum = second.addenda.get()
    quote = dict(addendum.quote)
    # As an addendum issued before the change would have priced it: a second licence start fee.
    quote["lines"] = [
        {"kind": "one_time", "rule": "licence_start", "amount": "10000.00", "da": "x", "en": "x", "interface": NEW}
    ]
    type(addendum).objects.filter(pk=addendum.pk).update(quote=quote)
    SharedFee.objects.filter(order=second).delete()
    services.order_activate(order=accept_rendered(order=second, actor=cast.signatory_a), actor=cast.am_a)
    assert [c.order_id for c in Charge.objects.filter(rule="licence_start")] == [first.pk]


def test_the_fee_moves_when_the_first_order_is_declined_and_withdrawn_and_is_booked_once(cast, order_in, canteen_too):
    """Withdrawing is possible once the addendum is declined: the fee moved at the decline, and the withdrawal
    moves nothing more; the next order's addendum, its live quote and the invoice then agree on one fee."""
    first = order_in("awaiting_signature", codes=(NEW,))
    second = order_in("awaiting_signature", system=canteen_too, codes=(NEW,))
    (promised,) = lines(frozen_quote(second), "licence_start")
    first = services.order_decline(order=first, actor=cast.signatory_a, comment="Fortrudt")
    services.order_withdraw(order=first, actor=cast.orderer_a)
    assert SharedFee.objects.get(key=f"licence:{NEW}").order_id == second.pk
    assert AuditEvent.objects.filter(kind=BillingAuditKind.SHARED_FEE_MOVED).count() == 1

    services.order_activate(order=accept_rendered(order=second, actor=cast.signatory_a), actor=cast.am_a)
    (charge,) = Charge.objects.filter(rule__startswith="licence_start")
    assert (charge.order_id, charge.amount) == (second.pk, promised.if_moved)
    (line,) = [x for x in invoice_for_this_month(cast.customer_a) if x.charge_id == charge.pk]
    assert line.amount == promised.if_moved == D("10000.00")
