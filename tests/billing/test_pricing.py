"""The quote, table-driven: every rule and their combinations, in Decimal to the øre."""

from decimal import Decimal

import pytest

from billing.pricing import (
    ContractFacts,
    ContractLine,
    InterfaceFacts,
    InterfacePrice,
    OrderFacts,
    PriceFacts,
    Quote,
    kroner,
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
