"""The quote, table-driven: every rule and their combinations, in Decimal to the øre."""

import dataclasses
from decimal import Decimal

import pytest

from billing.pricing import (
    ContractFacts,
    ContractLine,
    Holder,
    InterfaceFacts,
    InterfacePrice,
    MissingPrice,
    OrderFacts,
    PriceFacts,
    Quote,
    kroner,
    kroner_en,
    money,
    quote,
)

D = Decimal
FRAVAER = InterfaceFacts("opret-fravaer", "Opret Fravær", "Create absence")
KVOTER = InterfaceFacts("hent-fravaerskvoter", "Hent fraværskvoter", "Read absence quotas")
MEDARB = InterfaceFacts("medarbejderoplysninger", "Medarbejderoplysninger", "Employee data")
ROSTER = 7  # the external system's id
OTHER = 8

PRICES = PriceFacts(
    name="Prisliste 2026",
    interfaces={
        "opret-fravaer": InterfacePrice(D("15000.00"), D("1250.00"), D("5000.00")),
        "hent-fravaerskvoter": InterfacePrice(D("12000.00"), D("950.50"), D("4000.00")),
        "medarbejderoplysninger": InterfacePrice(D("20000.00"), D("1800.00"), D("6500.00")),
    },
    packages={"vagtplanpakke": D("3900.00")},
    setup_fee=D("7500.00"),
    startup_package=D("35000.00"),
    consulting_hourly=D("1450.00"),
    vat_rate=D("0.25"),
)
NO_CONTRACT = ContractFacts()
ALL = ContractFacts("HA-1", {"opret-fravaer": ContractLine("all")})
NAMED_ROSTER = ContractFacts("UDB-1", {"opret-fravaer": ContractLine("named", frozenset({ROSTER}))})
NAMED_OTHER = ContractFacts("UDB-1", {"opret-fravaer": ContractLine("named", frozenset({OTHER}))})


def single(*interfaces, **kwargs) -> OrderFacts:
    return OrderFacts(
        purchase_model="single", system_id=ROSTER, system_name="VagtPlan", interfaces=interfaces, **kwargs
    )


def package(**kwargs) -> OrderFacts:
    return OrderFacts(
        purchase_model="package",
        system_id=ROSTER,
        system_name="VagtPlan",
        package_code="vagtplanpakke",
        package_name="Vagtplanpakke",
        **kwargs,
    )


# name: (order, contract, expected (rule, kind, amount) lines, one-time excl., monthly excl.)
CASES = {
    "not in contract: licence start, monthly, setup": (
        single(FRAVAER),
        NO_CONTRACT,
        [
            ("licence_start", "one_time", "15000.00"),
            ("licence_monthly", "monthly", "1250.00"),
            ("setup_fee", "one_time", "7500.00"),
        ],
        "22500.00",
        "1250.00",
    ),
    "in contract for all systems": (
        single(FRAVAER),
        ALL,
        [("covered_all_systems", "one_time", "0.00"), ("setup_fee", "one_time", "7500.00")],
        "7500.00",
        "0.00",
    ),
    "in contract for named systems, this one named": (
        single(FRAVAER),
        NAMED_ROSTER,
        [("covered_named_system", "one_time", "0.00"), ("setup_fee", "one_time", "7500.00")],
        "7500.00",
        "0.00",
    ),
    "in contract for named systems, this one not named": (
        single(FRAVAER),
        NAMED_OTHER,
        [("additional_system", "one_time", "5000.00"), ("setup_fee", "one_time", "7500.00")],
        "12500.00",
        "0.00",
    ),
    "licence already held from an earlier purchase": (
        single(FRAVAER, licensed=frozenset({"opret-fravaer"})),
        NO_CONTRACT,
        [("already_licensed", "one_time", "0.00"), ("setup_fee", "one_time", "7500.00")],
        "7500.00",
        "0.00",
    ),
    "two interfaces, one covered and one not": (
        single(FRAVAER, KVOTER),
        ALL,
        [
            ("covered_all_systems", "one_time", "0.00"),
            ("licence_start", "one_time", "12000.00"),
            ("licence_monthly", "monthly", "950.50"),
            ("setup_fee", "one_time", "7500.00"),
        ],
        "19500.00",
        "950.50",
    ),
    "three interfaces, none in contract": (
        single(FRAVAER, KVOTER, MEDARB),
        NO_CONTRACT,
        [
            ("licence_start", "one_time", "15000.00"),
            ("licence_monthly", "monthly", "1250.00"),
            ("licence_start", "one_time", "12000.00"),
            ("licence_monthly", "monthly", "950.50"),
            ("licence_start", "one_time", "20000.00"),
            ("licence_monthly", "monthly", "1800.00"),
            ("setup_fee", "one_time", "7500.00"),
        ],
        "54500.00",
        "4000.50",
    ),
    "phase-out waives the setup fee": (
        single(FRAVAER, reason="phase_out"),
        ALL,
        [("covered_all_systems", "one_time", "0.00"), ("setup_waived_phase_out", "one_time", "0.00")],
        "0.00",
        "0.00",
    ),
    "phase-out still pays a licence not in the contract": (
        single(KVOTER, reason="phase_out"),
        ALL,
        [
            ("licence_start", "one_time", "12000.00"),
            ("licence_monthly", "monthly", "950.50"),
            ("setup_waived_phase_out", "one_time", "0.00"),
        ],
        "12000.00",
        "950.50",
    ),
    "package: no licence start, monthly package fee, setup": (
        package(),
        NO_CONTRACT,
        [
            ("package_no_licence_start", "one_time", "0.00"),
            ("package_monthly", "monthly", "3900.00"),
            ("setup_fee", "one_time", "7500.00"),
        ],
        "7500.00",
        "3900.00",
    ),
    "package ignores the contract's interfaces": (
        package(),
        ALL,
        [
            ("package_no_licence_start", "one_time", "0.00"),
            ("package_monthly", "monthly", "3900.00"),
            ("setup_fee", "one_time", "7500.00"),
        ],
        "7500.00",
        "3900.00",
    ),
    "package for a phase-out": (
        package(reason="phase_out"),
        NO_CONTRACT,
        [
            ("package_no_licence_start", "one_time", "0.00"),
            ("package_monthly", "monthly", "3900.00"),
            ("setup_waived_phase_out", "one_time", "0.00"),
        ],
        "0.00",
        "3900.00",
    ),
    "startup package covers its test access": (
        single(FRAVAER, startup_package=True),
        ALL,
        [
            ("startup_covers_licences", "one_time", "0.00"),
            ("setup_covered_by_startup", "one_time", "0.00"),
            ("startup_package", "one_time", "35000.00"),
        ],
        "35000.00",
        "0.00",
    ),
    "startup package covers a package's test access too": (
        package(startup_package=True),
        NO_CONTRACT,
        [
            ("startup_covers_licences", "one_time", "0.00"),
            ("setup_covered_by_startup", "one_time", "0.00"),
            ("startup_package", "one_time", "35000.00"),
        ],
        "35000.00",
        "0.00",
    ),
    "change order charges only the new interface": (
        single(FRAVAER, KVOTER, reason="change", existing_access=frozenset({"opret-fravaer"})),
        NO_CONTRACT,
        [
            ("already_in_access", "one_time", "0.00"),
            ("licence_start", "one_time", "12000.00"),
            ("licence_monthly", "monthly", "950.50"),
            ("setup_waived_change", "one_time", "0.00"),
        ],
        "12000.00",
        "950.50",
    ),
    "change order adding a licensed interface costs nothing": (
        single(
            FRAVAER,
            KVOTER,
            reason="change",
            existing_access=frozenset({"opret-fravaer"}),
            licensed=frozenset({"hent-fravaerskvoter"}),
        ),
        NO_CONTRACT,
        [
            ("already_in_access", "one_time", "0.00"),
            ("already_licensed", "one_time", "0.00"),
            ("setup_waived_change", "one_time", "0.00"),
        ],
        "0.00",
        "0.00",
    ),
    "change order with a named-systems interface not named": (
        single(FRAVAER, KVOTER, reason="change", existing_access=frozenset({"hent-fravaerskvoter"})),
        NAMED_OTHER,
        [
            ("additional_system", "one_time", "5000.00"),
            ("already_in_access", "one_time", "0.00"),
            ("setup_waived_change", "one_time", "0.00"),
        ],
        "5000.00",
        "0.00",
    ),
    "one-time discount from the account manager": (
        single(FRAVAER, adjustments=(("one_time", D("-2500.00"), "Rabat ved samtidig bestilling"),)),
        NO_CONTRACT,
        [
            ("licence_start", "one_time", "15000.00"),
            ("licence_monthly", "monthly", "1250.00"),
            ("setup_fee", "one_time", "7500.00"),
            ("adjustment", "one_time", "-2500.00"),
        ],
        "20000.00",
        "1250.00",
    ),
    "monthly adjustment rounds half up to øre": (
        single(FRAVAER, adjustments=(("monthly", D("-100.005"), "Aftalt nedslag"),)),
        ALL,
        [
            ("covered_all_systems", "one_time", "0.00"),
            ("setup_fee", "one_time", "7500.00"),
            ("adjustment", "monthly", "-100.01"),
        ],
        "7500.00",
        "-100.01",
    ),
    "named coverage for this system and a licence for another": (
        single(FRAVAER, KVOTER, licensed=frozenset({"hent-fravaerskvoter"})),
        NAMED_ROSTER,
        [
            ("covered_named_system", "one_time", "0.00"),
            ("already_licensed", "one_time", "0.00"),
            ("setup_fee", "one_time", "7500.00"),
        ],
        "7500.00",
        "0.00",
    ),
    "contract coverage beats an existing licence": (
        single(FRAVAER, licensed=frozenset({"opret-fravaer"})),
        ALL,
        [("covered_all_systems", "one_time", "0.00"), ("setup_fee", "one_time", "7500.00")],
        "7500.00",
        "0.00",
    ),
    "everything at once": (
        single(
            FRAVAER,
            KVOTER,
            MEDARB,
            reason="phase_out",
            licensed=frozenset({"medarbejderoplysninger"}),
            adjustments=(("one_time", D("-1000.00"), "Rabat"),),
        ),
        NAMED_OTHER,
        [
            ("additional_system", "one_time", "5000.00"),
            ("licence_start", "one_time", "12000.00"),
            ("licence_monthly", "monthly", "950.50"),
            ("already_licensed", "one_time", "0.00"),
            ("setup_waived_phase_out", "one_time", "0.00"),
            ("adjustment", "one_time", "-1000.00"),
        ],
        "16000.00",
        "950.50",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_quote_applies_every_rule(case):
    order, contract, expected, one_time, monthly = CASES[case]
    result = quote(order, contract, PRICES)
    assert [(line.rule, line.kind, str(line.amount)) for line in result.lines] == expected
    assert result.one_time.excl_vat == D(one_time)
    assert result.monthly.excl_vat == D(monthly)
    for totals in (result.one_time, result.monthly):
        assert totals.vat == money(totals.excl_vat * D("0.25"))
        assert totals.incl_vat == totals.excl_vat + totals.vat
    assert all(line.da and line.en and line.da != line.en for line in result.lines)


def test_there_are_at_least_twenty_quote_cases():
    assert len(CASES) >= 20


def test_each_sentence_names_the_interface_and_the_reason():
    line = quote(single(FRAVAER), ALL, PRICES).lines[0]
    assert line.da == "Ingen licensstart: Opret Fravær er omfattet af jeres kontrakt for alle systemer."
    assert line.en == "No licence start fee: Create absence is covered by your contract for all systems."


def test_vat_is_rounded_half_up_on_the_total():
    prices = PriceFacts(**{**PRICES.__dict__, "setup_fee": D("0.02")})
    result = quote(single(FRAVAER), ALL, prices)
    assert result.one_time.vat == D("0.01")  # 0.005 rounds up


def test_a_quote_survives_its_snapshot_exactly():
    original = quote(single(FRAVAER, KVOTER, startup_package=True), NAMED_OTHER, PRICES)
    assert Quote.from_dict(original.to_dict()) == original


def test_a_missing_price_is_an_error_not_a_free_interface():
    unknown = InterfaceFacts("faste-tillaeg", "Faste tillæg")
    with pytest.raises(KeyError):
        quote(single(unknown), NO_CONTRACT, PRICES)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (D("0"), "0,00 kr."),
        (D("1250.5"), "1.250,50 kr."),
        (D("1234567.89"), "1.234.567,89 kr."),
        (D("-2500"), "-2.500,00 kr."),
    ],
)
def test_amounts_are_written_the_danish_way(amount, text):
    assert kroner(amount) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [(D("0.99"), "0,99 kr."), (D("1"), "1,00 kr."), (D("-0.01"), "-0,01 kr.")],
)
def test_amounts_below_one_krone_are_written_the_danish_way(amount, text):
    assert kroner(amount) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (D("0"), "DKK 0.00"),
        (D("0.99"), "DKK 0.99"),
        (D("1"), "DKK 1.00"),
        (D("-0.01"), "-DKK 0.01"),
        (D("-1"), "-DKK 1.00"),
        (D("1234567.89"), "DKK 1,234,567.89"),
    ],
)
def test_amounts_are_written_the_british_way_with_the_currency_code(amount, text):
    assert kroner_en(amount) == text


def test_a_line_is_read_in_english_for_any_english_language_code():
    line = quote(single(FRAVAER), ALL, PRICES).lines[0]
    assert (line.text("da"), line.text("en"), line.text("en-gb")) == (line.da, line.en, line.en)
    assert line.text() == line.da


def test_a_missing_price_names_the_price_list_and_what_it_lacks():
    unknown = InterfaceFacts("faste-tillaeg", "Faste tillæg")
    with pytest.raises(MissingPrice) as interface:
        quote(single(unknown), NO_CONTRACT, PRICES)
    with pytest.raises(MissingPrice) as package_missing:
        quote(OrderFacts("package", ROSTER, "VagtPlan", package_code="ukendt"), NO_CONTRACT, PRICES)

    assert str(interface.value) == "price list Prisliste 2026 has no price for interface faste-tillaeg"
    assert (package_missing.value.kind, package_missing.value.code) == ("package", "ukendt")
    assert str(package_missing.value) == "price list Prisliste 2026 has no price for package ukendt"


@pytest.mark.parametrize(
    "value",
    [
        FRAVAER,
        single(FRAVAER),
        ContractLine("all"),
        ALL,
        PRICES.interfaces["opret-fravaer"],
        PRICES,
        quote(single(FRAVAER), ALL, PRICES),
        quote(single(FRAVAER), ALL, PRICES).lines[0],
        quote(single(FRAVAER), ALL, PRICES).one_time,
        Holder("OA-000003", fee_id=31, system_id=OTHER),
    ],
    ids=lambda value: type(value).__name__,
)
def test_the_facts_and_the_quote_cannot_be_changed_once_made(value):
    # A frozen quote is stored with the addendum the signatory accepted: nothing may alter it afterwards.
    field = dataclasses.fields(value)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, field, getattr(value, field))


@pytest.mark.parametrize(
    ("terms", "scope", "serves_all", "monthly_rule"),
    [
        ("standard", "all", True, "licence_monthly"),
        ("standard", "named", True, "licence_monthly"),  # standard terms never tie a licence to systems
        ("tender", "all", True, "licence_monthly"),
        ("tender", "named", False, "licence_monthly_named"),
    ],
)
def test_a_new_licence_serves_all_systems_unless_tender_terms_tie_it_to_named_ones(
    terms, scope, serves_all, monthly_rule
):
    contract = ContractFacts("K-1", terms=terms, licence_scope=scope)

    start, monthly, _setup = quote(single(FRAVAER), contract, PRICES).lines

    assert contract.licences_serve_all_systems is serves_all
    assert (start.rule, start.amount, start.key) == ("licence_start", D("15000.00"), "licence:opret-fravaer")
    assert (monthly.rule, monthly.amount) == (monthly_rule, D("1250.00"))


# --- Fees due once: the key on each line, and what a fee another order pays would cost here ---------

BUYER = Holder("OA-000003", fee_id=31, system_id=OTHER)  # another system's order buys the fee
SAME_SYSTEM = Holder("OA-000005", fee_id=51, system_id=ROSTER)  # this system's order in the other environment
TENDER_NAMED = ContractFacts("UDB-2", terms="tender", licence_scope="named")

# name: (order, contract, expected (rule, amount, key, if_moved, shared_fee) lines)
FEES_DUE_ONCE = {
    "a new licence and setup are fees due once": (
        single(FRAVAER),
        NO_CONTRACT,
        [
            ("licence_start", "15000.00", "licence:opret-fravaer", None, None),
            ("licence_monthly", "1250.00", "", None, None),
            ("setup_fee", "7500.00", "setup:7", None, None),
        ],
    ),
    "another order buys the licence and sets the system up": (
        single(FRAVAER, paid_by_other={"licence:opret-fravaer": BUYER, "setup:7": SAME_SYSTEM}),
        NO_CONTRACT,
        [
            ("licence_start_with_order", "0.00", "licence:opret-fravaer", "15000.00", 31),
            ("licence_monthly_with_order", "0.00", "licence:opret-fravaer", "1250.00", 31),
            ("setup_with_order", "0.00", "setup:7", "7500.00", 51),
        ],
    ),
    "this order's earlier addendum priced them: it pays, whoever else needs them": (
        single(
            FRAVAER,
            licensed=frozenset({"opret-fravaer"}),
            paid_by_this=frozenset({"licence:opret-fravaer", "setup:7"}),
            paid_by_other={"licence:opret-fravaer": BUYER, "setup:7": SAME_SYSTEM},
        ),
        NO_CONTRACT,
        [
            ("licence_start", "15000.00", "licence:opret-fravaer", None, None),
            ("licence_monthly", "1250.00", "", None, None),
            ("setup_fee", "7500.00", "setup:7", None, None),
        ],
    ),
    "another order pays the additional-system fee": (
        single(FRAVAER, paid_by_other={"additional:7:opret-fravaer": BUYER}, set_up_by="OA-000001"),
        NAMED_OTHER,
        [
            ("additional_system_with_order", "0.00", "additional:7:opret-fravaer", "5000.00", 31),
            ("setup_already_done", "0.00", "", None, None),
        ],
    ),
    "the additional-system fee was paid: the contract covers the system": (
        single(FRAVAER, covered_after_fee={"opret-fravaer": "OA-000004"}, set_up_by="OA-000001"),
        NAMED_OTHER,
        [("covered_after_additional_fee", "0.00", "", None, None), ("setup_already_done", "0.00", "", None, None)],
    ),
    "the additional-system fee is due once per system and interface": (
        single(FRAVAER, set_up_by="OA-000001"),
        NAMED_OTHER,
        [
            ("additional_system", "5000.00", "additional:7:opret-fravaer", None, None),
            ("setup_already_done", "0.00", "", None, None),
        ],
    ),
    "tender terms naming systems: the same system's other environment shares the licence being bought": (
        single(FRAVAER, paid_by_other={"licence:opret-fravaer": SAME_SYSTEM}, set_up_by="OA-000005"),
        TENDER_NAMED,
        [
            ("licence_start_with_order", "0.00", "licence:opret-fravaer", "15000.00", 51),
            ("licence_monthly_with_order", "0.00", "licence:opret-fravaer", "1250.00", 51),
            ("setup_already_done", "0.00", "", None, None),
        ],
    ),
    "tender terms naming systems: another system pays the additional-system fee for the licence being bought": (
        single(FRAVAER, paid_by_other={"licence:opret-fravaer": BUYER}, set_up_by="OA-000001"),
        TENDER_NAMED,
        [
            ("licence_additional_system", "5000.00", "additional:7:opret-fravaer", None, None),
            ("setup_already_done", "0.00", "", None, None),
        ],
    ),
    "tender terms naming systems: an addendum that priced the licence keeps paying it": (
        single(
            FRAVAER,
            licensed=frozenset({"opret-fravaer"}),
            paid_by_this=frozenset({"licence:opret-fravaer"}),
            paid_by_other={"licence:opret-fravaer": BUYER},
            set_up_by="OA-000001",
        ),
        TENDER_NAMED,
        [
            ("licence_start", "15000.00", "licence:opret-fravaer", None, None),
            ("licence_monthly_named", "1250.00", "", None, None),
            ("setup_already_done", "0.00", "", None, None),
        ],
    ),
    "tender terms naming systems: a licence held for another system costs this one the additional fee": (
        single(FRAVAER, licensed=frozenset({"opret-fravaer"}), set_up_by="OA-000001"),
        TENDER_NAMED,
        [
            ("licence_additional_system", "5000.00", "additional:7:opret-fravaer", None, None),
            ("setup_already_done", "0.00", "", None, None),
        ],
    ),
}


@pytest.mark.parametrize("case", list(FEES_DUE_ONCE))
def test_fees_due_once_carry_what_they_pay_for_and_what_they_would_cost_here(case):
    order, contract, expected = FEES_DUE_ONCE[case]

    result = quote(order, contract, PRICES)

    assert [
        (line.rule, str(line.amount), line.key, None if line.if_moved is None else str(line.if_moved), line.shared_fee)
        for line in result.lines
    ] == expected
    assert Quote.from_dict(result.to_dict()) == result


def test_a_fee_another_order_pays_names_that_order_whom_it_serves_and_what_moving_it_would_cost():
    order = single(FRAVAER, paid_by_other={"licence:opret-fravaer": BUYER, "setup:7": BUYER})

    start, monthly, setup = quote(order, NO_CONTRACT, PRICES).lines
    (same_system_start, _monthly, _setup) = quote(
        single(FRAVAER, paid_by_other={"licence:opret-fravaer": SAME_SYSTEM}), TENDER_NAMED, PRICES
    ).lines

    assert "købes med OA-000003 og gælder alle eksterne systemer" in start.da and "15.000,00 kr." in start.da
    assert "bought with OA-000003 and serves all external systems" in start.en and "DKK 15,000.00" in start.en
    assert "1.250,00 kr." in monthly.da and "DKK 1,250.00" in monthly.en
    assert "OA-000003" in setup.da and "7.500,00 kr." in setup.da and "DKK 7,500.00" in setup.en
    assert "købes med OA-000005 og gælder VagtPlan." in same_system_start.da
    assert "bought with OA-000005 and serves VagtPlan." in same_system_start.en


def test_a_holder_known_only_by_its_reference_names_no_fee_and_no_system():
    holder = Holder("OA-000009")
    standard = single(FRAVAER, paid_by_other={"licence:opret-fravaer": holder})
    tender = OrderFacts("single", 1, "VagtPlan", interfaces=(FRAVAER,), paid_by_other={"licence:opret-fravaer": holder})

    start = quote(standard, NO_CONTRACT, PRICES).lines[0]
    (named, _setup) = quote(tender, TENDER_NAMED, PRICES).lines

    assert (start.rule, start.shared_fee) == ("licence_start_with_order", 0)
    # System ids start at 1: a holder naming none is never this system's other environment.
    assert (named.rule, named.key) == ("licence_additional_system", "additional:1:opret-fravaer")
