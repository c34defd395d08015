"""Single purchase beside the system's integration packages, priced by the same core as the quote.

The source: an integration package "er ofte mere fordelagtig for kunderne … For mange kunder vil det desuden
være en mere økonomisk løsning end køb af enkelte standardsnitflader", and "bør I kontakte jeres faste salgs-
og kundeansvarlige … for at drøfte mulighederne og vælge den mest fordelagtige model for jer".
"""

from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing import pricing, quotes
from billing.comparison import form_quotes, quote_comparison
from billing.models import PackagePrice
from ordering.models import IntegrationPackage

from ..conftest import facts


def d(value: str) -> Decimal:
    return Decimal(value)


def cast_prices() -> pricing.PriceFacts:
    """The conftest price list as the pure core sees it: every interface 10.000 start + 3.100 a month, a package
    6.200 a month, setup 5.000."""
    interface = pricing.InterfacePrice(d("10000.00"), d("3100.00"), d("2500.00"))
    return pricing.PriceFacts(
        name="Prisliste 2026",
        interfaces=dict.fromkeys(("opret-fravaer", "medarbejderoplysninger", "moedetidsplaner"), interface),
        packages={"vagtplanpakke": d("6200.00")},
        setup_fee=d("5000.00"),
        startup_package=d("25000.00"),
        consulting_hourly=d("1500.00"),
        vat_rate=d("0.25"),
    )


def test_single_purchase_and_the_package_are_priced_by_the_pure_core_to_the_krone(cast):
    """Odense has no main contract: single purchase pays two licence starts; the package pays none."""
    chosen = ("opret-fravaer", "moedetidsplaner")
    comparison = quote_comparison(cast.customer_b, facts(cast, codes=chosen))

    core_single = pricing.quote(
        pricing.OrderFacts(
            purchase_model="single",
            system_id=cast.rostering.pk,
            system_name="VagtPlan",
            interfaces=tuple(pricing.InterfaceFacts(code, code) for code in chosen),
        ),
        pricing.ContractFacts(),
        cast_prices(),
    )
    core_package = pricing.quote(
        pricing.OrderFacts(
            purchase_model="package",
            system_id=cast.rostering.pk,
            system_name="VagtPlan",
            package_code="vagtplanpakke",
            package_name="Vagtplanpakke",
        ),
        pricing.ContractFacts(),
        cast_prices(),
    )
    single, package = comparison.options
    assert (single.package, package.package) == (None, cast.package)
    assert (single.one_time, single.monthly) == (core_single.one_time.excl_vat, core_single.monthly.excl_vat)
    assert (package.one_time, package.monthly) == (core_package.one_time.excl_vat, core_package.monthly.excl_vat)
    # 2 × 10.000 + 5.000 once, 2 × 3.100 a month; the package: 5.000 once, 6.200 a month.
    assert (single.one_time, single.monthly, single.first_year, single.yearly) == (
        d("25000.00"),
        d("6200.00"),
        d("99400.00"),
        d("74400.00"),
    )
    assert (package.one_time, package.monthly, package.first_year, package.yearly) == (
        d("5000.00"),
        d("6200.00"),
        d("79400.00"),
        d("74400.00"),
    )
    assert (single.chosen, package.chosen) == (True, False)
    assert (package.lacks, package.extra) == ((), ())


def test_each_option_is_the_quote_the_form_would_show_for_it(cast):
    """The columns never disagree with the quote the preview (and later the addendum) shows."""
    answers = facts(cast, codes=("opret-fravaer", "moedetidsplaner"))
    comparison = quote_comparison(cast.customer_a, answers)
    single = quotes.quote_for_form(cast.customer_a, answers)
    package = quotes.quote_for_form(cast.customer_a, {**answers, "purchase_model": "package", "package": cast.package})
    assert comparison.single.quote == single
    assert comparison.packages[0].quote == package
    # Aarhus's contract covers Opret Fravær: single purchase pays one licence start, not two.
    assert comparison.single.one_time == d("15000.00")


def test_under_tender_terms_for_named_systems_the_package_column_is_the_packages_own_quote(cast, order_in):
    """A licence already serving the system (VagtPlan's Mødetidsplaner, by an access running) is no additional-system
    fee in the package's quote; the package's column said otherwise, as it was priced without that fact."""
    contract = cast.customer_a.contract
    contract.terms, contract.licence_scope = "tender", "named"
    contract.save()
    order_in("active", codes=("moedetidsplaner",))
    answers = facts(cast, codes=("moedetidsplaner", "opret-fravaer"), environment="test")
    package = quotes.quote_for_form(cast.customer_a, {**answers, "purchase_model": "package", "package": cast.package})
    assert quote_comparison(cast.customer_a, answers).packages[0].quote == package


def test_a_package_that_lacks_a_chosen_interface_says_so_and_what_it_gives_besides(cast):
    comparison = quote_comparison(cast.customer_b, facts(cast, codes=("opret-fravaer", "medarbejderoplysninger")))
    (package,) = comparison.packages
    assert package.lacks == (cast.interfaces["medarbejderoplysninger"],)
    assert package.extra == (cast.interfaces["moedetidsplaner"],)


def test_choosing_the_package_compares_single_purchase_of_its_interfaces(cast):
    comparison = quote_comparison(
        cast.customer_b, facts(cast, codes=(), purchase_model="package", package=cast.package)
    )
    assert (comparison.single.chosen, comparison.packages[0].chosen) == (False, True)
    assert comparison.single.one_time == d("25000.00")  # Opret Fravær and Mødetidsplaner, bought singly


def test_a_phase_out_waives_the_setup_fee_in_every_column(cast):
    comparison = quote_comparison(
        cast.customer_b,
        facts(cast, codes=("opret-fravaer", "moedetidsplaner"), reason="phase_out", replaces_file_interface=cast.ind01),
    )
    assert [option.one_time for option in comparison.options] == [d("20000.00"), d("0.00")]


def test_a_system_without_packages_has_no_comparison(cast):
    assert quote_comparison(cast.customer_b, facts(cast, system=cast.canteen, codes=("engangsydelser",))) is None


def test_a_package_the_price_list_in_force_does_not_price_is_not_offered(cast):
    PackagePrice.objects.all().delete()
    assert quote_comparison(cast.customer_b, facts(cast, codes=("opret-fravaer",))) is None


def test_nothing_is_compared_before_interfaces_are_chosen(cast):
    assert quote_comparison(cast.customer_b, facts(cast, codes=())) is None


def test_the_quote_and_the_comparison_from_one_set_of_reads_are_what_each_makes_alone(cast, order_in):
    # Tender terms tying a licence to named systems, and VagtPlan's licence for Mødetidsplaner: the quote also asks
    # which licences already serve the system, the one read the two share that only such a contract needs.
    contract = cast.customer_a.contract
    contract.terms, contract.licence_scope = "tender", "named"
    contract.save()
    order_in("active", codes=("moedetidsplaner",))
    answers = facts(cast, codes=("moedetidsplaner", "opret-fravaer"), environment="test")
    with CaptureQueriesContext(connection) as together:
        quote, comparison = form_quotes(cast.customer_a, answers)
    with CaptureQueriesContext(connection) as apart:
        alone = (quotes.quote_for_form(cast.customer_a, answers), quote_comparison(cast.customer_a, answers))
    assert (quote, comparison) == alone
    assert "licence_serves_system" in {line.rule for line in quote.lines}
    assert len(comparison.options) == 2
    # The price list, its prices, the contract, the customer's licences, set-up and fees due once, and the
    # licences serving the system: seven reads made once, not twice.
    assert len(apart) - len(together) == 7


# --- In the order form's live preview --------------------------------------------------------


def preview_params(cast, *codes, **extra) -> dict:
    return {
        "customer": cast.customer_b.pk,
        "external_system": cast.rostering.pk,
        "purchase_model": "single",
        "environment": "production",
        "reason": "new",
        "interfaces": [cast.interfaces[c].pk for c in codes],
        **extra,
    }


def english_preview(client, cast, params) -> str:
    client.force_login(cast.orderer_b)
    client.cookies["django_language"] = "en"
    response = client.get(reverse("ordering:order_form_preview"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_preview_shows_both_columns_and_names_the_account_manager(cast, client):
    body = english_preview(client, cast, preview_params(cast, "opret-fravaer", "moedetidsplaner"))
    assert "Single purchase or integration package?" in body
    assert body.count('class="comparison-option"') == 2
    assert "DKK 99,400.00" in body and "DKK 79,400.00" in body and "DKK 74,400.00" in body
    assert "Discuss it with your account manager" in body
    assert 'href="mailto:am_b@example.test"' in body
    assert "am_a@example.test" not in body
    assert 'data-title="First year"' in body  # the rows stack on a phone (DKFDS table--responsive-headers)


def test_the_preview_names_what_a_package_lacks(cast, client):
    body = english_preview(client, cast, preview_params(cast, "opret-fravaer", "medarbejderoplysninger"))
    assert "Does not give: Medarbejderoplysninger" in body
    assert "Also gives: Mødetidsplaner" in body


def test_the_preview_of_a_system_without_packages_compares_nothing(cast, client):
    params = preview_params(cast, "engangsydelser", external_system=cast.canteen.pk)
    body = english_preview(client, cast, params)
    assert "What it will cost" in body
    assert "Single purchase or integration package?" not in body and "comparison-option" not in body


def count_preview_queries(client, params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("ordering:order_form_preview"), params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_preview_reads_prices_contract_and_the_customers_facts_once_for_quote_and_comparison(cast, client):
    # The price list, its prices (one statement), the contract with its lines (one) and the customer's licences,
    # set-up and fees due once are read once for the quote and the comparison together (billing.quotes.FormReads);
    # the system's packages once for the preview and the comparison, the interfaces once for their boxes and their
    # documentation, the account manager with the customer in the one statement that finds it. 33 queries when the
    # price list alone was five, 28 when the quote and the comparison each read it all. Exact, so that a read added
    # again fails here.
    client.force_login(cast.orderer_b)
    count_preview_queries(client, preview_params(cast, "opret-fravaer"))  # the session's first request writes it
    assert count_preview_queries(client, preview_params(cast, "opret-fravaer", "moedetidsplaner")) == 17


def test_the_preview_of_a_package_reads_its_interfaces_once(cast, client):
    # The preview's overlap check and the package's quote list the package's interfaces from one read; the
    # comparison reads those of all the system's packages in one more; the rest as for a single purchase (above).
    # 28 queries before. Exact, so that a read added again fails here.
    client.force_login(cast.orderer_b)
    params = preview_params(cast, purchase_model="package", package=cast.package.pk)
    count_preview_queries(client, params)  # the session's first request writes it
    assert count_preview_queries(client, params) == 18
    body = english_preview(client, cast, params)
    assert "What it will cost" in body and body.count('class="comparison-option"') == 2


def test_the_preview_costs_the_same_queries_for_one_package_and_five(cast, client, django_assert_max_num_queries):
    client.force_login(cast.orderer_b)
    few = count_preview_queries(client, preview_params(cast, "opret-fravaer"))
    web = cast.interfaces
    for n in range(4):
        package = IntegrationPackage.objects.create(
            code=f"pakke-{n}", name_da=f"Pakke {n}", external_system=cast.rostering
        )
        package.interfaces.set([web["opret-fravaer"], web["medarbejderoplysninger"], web["moedetidsplaner"]])
        PackagePrice.objects.create(price_list=cast.price_list, package=package, monthly_fee=Decimal("7000.00"))
    codes = ("opret-fravaer", "medarbejderoplysninger", "moedetidsplaner")
    with django_assert_max_num_queries(few):
        body = client.get(reverse("ordering:order_form_preview"), preview_params(cast, *codes)).content.decode()
    assert body.count('class="comparison-option"') == 6
    assert count_preview_queries(client, preview_params(cast, *codes)) == few
