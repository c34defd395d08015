"""What each price rule says in the contract addendum: pure, no Django (like billing/pricing.py).

The order pages speak to the customer ("jeres"); a contract speaks about a defined party ("Kunden"), and a
0 kr line must say why it is 0 kr: a contract, an earlier licence, the package, the phase-out waiver and an
existing access are different reasons, not all "covered by the contract". ordering/documents.py prints these
through ordering.lifecycle.Billing.addendum_line_sentence; ordering never reads this table itself.
"""

from __future__ import annotations

from .pricing import ADJUSTMENT_PREFIX_DA, QuoteLine, Rule


class UnknownRule(LookupError):
    """A quote line whose rule has no entry here: the addendum is not printed with a guess."""


# Every rule has an entry (tests/billing/test_addendum_wording.py): its sentence, or None where the pricing
# core's own sentence already speaks about the customer rather than to it, and is printed as it is.
ADDENDUM_SENTENCES: dict[Rule, str | None] = {
    Rule.LICENCE_START: "Opstartsvederlag for licens til {interface}. Snitfladen er ikke omfattet af Kundens kontrakt.",
    Rule.LICENCE_MONTHLY: "Løbende vederlag for drift og vedligehold af {interface}. Licensen gælder alle Kundens "
    "eksterne systemer.",
    Rule.COVERED_ALL_SYSTEMS: "Intet opstartsvederlag for licens til {interface}: snitfladen er omfattet af Kundens "
    "kontrakt for alle eksterne systemer.",
    Rule.COVERED_NAMED_SYSTEM: "Intet opstartsvederlag for licens til {interface}: snitfladen er omfattet af Kundens "
    "kontrakt for {system}.",
    Rule.ADDITIONAL_SYSTEM: "Vederlag for yderligere system: Kundens kontrakt omfatter kun {interface} for navngivne "
    "systemer, og {system} er ikke et af dem. Vederlaget betales én gang; herefter omfatter kontrakten også {system}.",
    Rule.ALREADY_LICENSED: "Intet opstartsvederlag for licens til {interface}: Kunden har allerede licens til "
    "snitfladen, og licensen gælder alle Kundens eksterne systemer.",
    Rule.ALREADY_IN_ACCESS: "Ingen betaling for {interface}: {system} har allerede adgang til snitfladen.",
    Rule.PACKAGE_NO_LICENCE_START: "Intet opstartsvederlag for licens: ved køb af integrationspakken {package} "
    "betales der ikke opstartsvederlag for licens.",
    Rule.PACKAGE_MONTHLY: "Løbende vederlag for drift og vedligehold af integrationspakken {package}.",
    Rule.SETUP_FEE: "Opsætningsvederlag for adgang for {system}.",
    Rule.SETUP_WAIVED_PHASE_OUT: "Intet opsætningsvederlag: adgangen for {system} erstatter en filbaseret snitflade "
    "under udfasning, og KMD opkræver ikke vederlag for opsætning i forbindelse med udfasningen.",
    Rule.SETUP_WAIVED_CHANGE: "Intet opsætningsvederlag: {system} har allerede adgang, og ændringen omfatter kun det "
    "nye.",
    Rule.STARTUP_PACKAGE: "Opstartspakke: 6 måneders adgang for Leverandøren til webservices på eksternt testmiljø, "
    "op til 3 sparringsmøder (online) og op til 4 timers besvarelse af spørgsmål.",
    Rule.ADJUSTMENT: "Justering aftalt med Kundens salgs- og kundeansvarlige hos KMD: {detail}",
    Rule.LICENCE_MONTHLY_NAMED: "Løbende vederlag for drift og vedligehold af {interface}. Efter Kundens kontrakt, der "
    "er indgået på udbudsvilkår, gælder licensen {system}; for hvert yderligere system betales et engangsvederlag.",
    Rule.LICENCE_SERVES_SYSTEM: "Intet opstartsvederlag for licens til {interface}: Kundens licens til snitfladen "
    "gælder allerede {system}.",
    Rule.LICENCE_ADDITIONAL_SYSTEM: "Vederlag for yderligere system: efter Kundens kontrakt, der er indgået på "
    "udbudsvilkår, gælder licensen til {interface} kun de systemer, den er købt til, og {system} er ikke et af dem. "
    "Vederlaget betales én gang; herefter gælder licensen også {system}.",
    Rule.STARTUP_COVERS_LICENCES: "Intet licensvederlag: adgangen for {system} til eksternt testmiljø i 6 måneder er "
    "dækket af opstartspakken.",
    # The pricing core's own sentence already speaks about the customer, not to it: printed as it is.
    Rule.SETUP_COVERED_BY_STARTUP: None,
    Rule.SETUP_ALREADY_DONE: None,
    Rule.SETUP_FEE_REPLACEMENT: None,
    # Fees due once for several orders (billing/pricing.py, WITH_ORDER_RULES): the core names the order that pays.
    Rule.LICENCE_START_WITH_ORDER: None,
    Rule.LICENCE_MONTHLY_WITH_ORDER: None,
    Rule.SETUP_WITH_ORDER: None,
    Rule.ADDITIONAL_SYSTEM_WITH_ORDER: None,
    Rule.COVERED_AFTER_ADDITIONAL_FEE: None,
}


def addendum_line_sentence(line: QuoteLine, *, system: str, package: str, interface_names: dict[str, str]) -> str:
    """The addendum's sentence for one quote line; a rule that is explicitly wordless keeps the quote's own text.

    A rule this table does not know raises UnknownRule: a binding document is never printed with a guess.
    """
    try:
        template = ADDENDUM_SENTENCES[Rule(line.rule)]
    except (KeyError, ValueError):
        raise UnknownRule(f"no addendum wording for price rule {line.rule!r} (billing/addendum_wording.py)") from None
    if template is None:
        return line.da
    detail = line.da.removeprefix(ADJUSTMENT_PREFIX_DA)
    return template.format(
        interface=interface_names.get(line.interface, line.interface),
        system=system,
        package=package,
        detail=detail,
    )
