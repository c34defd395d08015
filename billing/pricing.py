"""Price quotes: pure functions over plain data (no database, no Django).

`quote(order, contract, prices)` explains, line by line, what an order costs against the
customer's contract: one-time lines (due when access is established) and monthly lines (running
from activation to closure). Every line carries a rule code and a Danish and English sentence.
Amounts are Decimal, rounded half-up to øre per line; totals are sums of the rounded lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ORE = Decimal("0.01")
ZERO = Decimal("0.00")
ONE_TIME, MONTHLY = "one_time", "monthly"
# The monthly lines that start an interface licence when access is established (billing/services.py).
LICENCE_MONTHLY_RULES = frozenset({"licence_monthly", "licence_monthly_named"})


class MissingPrice(KeyError):
    """The price list has no price for an interface or package the order needs.

    Never read as "free": the quote cannot be made. A KeyError, as the lookup that failed is one.
    """

    def __init__(self, price_list: str, kind: str, code: str) -> None:
        super().__init__(code)
        self.price_list = price_list
        self.kind = kind  # "interface" or "package"
        self.code = code

    def __str__(self) -> str:
        return f"price list {self.price_list} has no price for {self.kind} {self.code}"


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(ORE, rounding=ROUND_HALF_UP)


def kroner(value: Decimal) -> str:
    """Danish notation: 12.345,50 kr."""
    sign = "-" if value < 0 else ""
    whole, fraction = f"{abs(value):.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{'.'.join(groups)},{fraction} kr."


def kroner_en(value: Decimal) -> str:
    """British notation with the ISO code, so an English reader is never unsure of the currency: DKK 12,345.50"""
    sign = "-" if value < 0 else ""
    return f"{sign}DKK {abs(value):,.2f}"


# --- Inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InterfaceFacts:
    code: str
    name_da: str
    name_en: str = ""

    @property
    def en(self) -> str:
        return self.name_en or self.name_da


@dataclass(frozen=True)
class OrderFacts:
    purchase_model: str  # "single" or "package"
    system_id: int
    system_name: str
    reason: str = "new"  # new, phase_out, change
    interfaces: tuple[InterfaceFacts, ...] = ()
    package_code: str = ""
    package_name: str = ""
    startup_package: bool = False
    # Interface codes the customer already holds a licence for (bought earlier).
    licensed: frozenset[str] = frozenset()
    # Of those, the codes whose licence already serves this system (it has access through it). Matters only
    # when the contract says a licence serves named systems (ContractFacts.licences_serve_all_systems).
    licensed_for_system: frozenset[str] = frozenset()
    # For a change order: interface codes the existing access already has.
    existing_access: frozenset[str] = frozenset()
    # The reference of an earlier order that already set this system up (an access that is live), if any.
    set_up_by: str = ""
    # For an order replacing another system: "<system> (<reference>)" of the access it replaces.
    replaces: str = ""
    # The account manager's discounts or adjustments: (kind, amount, reason).
    adjustments: tuple[tuple[str, Decimal, str], ...] = ()


@dataclass(frozen=True)
class ContractLine:
    coverage: str  # "all" or "named"
    named_system_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ContractFacts:
    reference: str = ""
    included: dict[str, ContractLine] = field(default_factory=dict)
    terms: str = "standard"  # "standard" or "tender" (udbud)
    # Whom a licence bought later serves under tender terms: "all" systems or the "named" ones it is bought for.
    licence_scope: str = "all"

    @property
    def licences_serve_all_systems(self) -> bool:
        """The source: bought "på standardvilkår (dvs. ikke som led af eks. udbud), har I adgang til at anvende
        disse til alle de eksterne systemer, I ønsker"; under tender terms, as the contract says."""
        return self.terms != "tender" or self.licence_scope == "all"


@dataclass(frozen=True)
class InterfacePrice:
    licence_start: Decimal
    monthly: Decimal
    additional_system: Decimal


@dataclass(frozen=True)
class PriceFacts:
    name: str
    interfaces: dict[str, InterfacePrice]
    packages: dict[str, Decimal]  # monthly fee per package code
    setup_fee: Decimal
    startup_package: Decimal
    consulting_hourly: Decimal
    vat_rate: Decimal


# --- Output -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuoteLine:
    kind: str  # one_time or monthly
    rule: str
    amount: Decimal
    da: str
    en: str
    interface: str = ""

    def text(self, language: str = "da") -> str:
        return self.en if language.startswith("en") else self.da


@dataclass(frozen=True)
class Totals:
    excl_vat: Decimal
    vat: Decimal
    incl_vat: Decimal


@dataclass(frozen=True)
class Quote:
    price_list: str
    vat_rate: Decimal
    lines: tuple[QuoteLine, ...]

    def lines_of(self, kind: str) -> list[QuoteLine]:
        return [line for line in self.lines if line.kind == kind]

    def totals(self, kind: str) -> Totals:
        excl = sum((line.amount for line in self.lines_of(kind)), ZERO)
        vat = money(excl * self.vat_rate)
        return Totals(excl, vat, excl + vat)

    @property
    def one_time(self) -> Totals:
        return self.totals(ONE_TIME)

    @property
    def monthly(self) -> Totals:
        return self.totals(MONTHLY)

    def to_dict(self) -> dict:
        """A JSON-safe snapshot (amounts as strings), stored when an addendum freezes the quote."""
        return {
            "price_list": self.price_list,
            "vat_rate": str(self.vat_rate),
            "lines": [
                {
                    "kind": x.kind,
                    "rule": x.rule,
                    "amount": str(x.amount),
                    "da": x.da,
                    "en": x.en,
                    "interface": x.interface,
                }
                for x in self.lines
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Quote:
        return cls(
            price_list=data["price_list"],
            vat_rate=Decimal(data["vat_rate"]),
            lines=tuple(
                QuoteLine(x["kind"], x["rule"], Decimal(x["amount"]), x["da"], x["en"], x.get("interface", ""))
                for x in data["lines"]
            ),
        )


# --- The rules --------------------------------------------------------------------------------


def quote(order: OrderFacts, contract: ContractFacts, prices: PriceFacts) -> Quote:
    lines: list[QuoteLine] = []
    if order.startup_package:
        lines += _startup_access_lines(order)
    elif order.purchase_model == "package":
        lines += _package_lines(order, prices)
        lines += _setup_lines(order, prices)
    else:
        for interface in order.interfaces:
            lines += _interface_lines(interface, order, contract, prices)
        lines += _setup_lines(order, prices)
    if order.startup_package:
        lines.append(
            QuoteLine(
                ONE_TIME,
                "startup_package",
                money(prices.startup_package),
                "Opstartspakke: 6 måneders adgang til eksternt testmiljø, op til 3 sparringsmøder og op til 4 "
                "timers besvarelse af spørgsmål.",
                "Startup package: 6 months of test-environment access, up to 3 online meetings and up to 4 hours "
                "of Q&A.",
            )
        )
    for kind, amount, reason in order.adjustments:
        lines.append(
            QuoteLine(
                kind,
                "adjustment",
                money(amount),
                f"Justering aftalt med jeres salgs- og kundeansvarlige: {reason}",
                f"Adjustment agreed with your account manager: {reason}",
            )
        )
    return Quote(prices.name, prices.vat_rate, tuple(lines))


def _interface_lines(
    interface: InterfaceFacts, order: OrderFacts, contract: ContractFacts, prices: PriceFacts
) -> list[QuoteLine]:
    name_da, name_en, code = interface.name_da, interface.en, interface.code
    if code in order.existing_access:
        return [
            QuoteLine(
                ONE_TIME,
                "already_in_access",
                ZERO,
                f"Ingen betaling: {order.system_name} har allerede adgang til {name_da}; ændringen koster kun det nye.",
                f"No charge: {order.system_name} already has access to {name_en}; the change costs only what is new.",
                code,
            )
        ]
    included = contract.included.get(code)
    if included is not None and included.coverage == "all":
        return [
            QuoteLine(
                ONE_TIME,
                "covered_all_systems",
                ZERO,
                f"Ingen licensstart: {name_da} er omfattet af jeres kontrakt for alle systemer.",
                f"No licence start fee: {name_en} is covered by your contract for all systems.",
                code,
            )
        ]
    price = prices.interfaces.get(code)
    if price is None:
        raise MissingPrice(prices.name, "interface", code)
    if included is not None:
        if order.system_id in included.named_system_ids:
            return [
                QuoteLine(
                    ONE_TIME,
                    "covered_named_system",
                    ZERO,
                    f"Ingen licensstart: {name_da} er omfattet af jeres kontrakt for {order.system_name}.",
                    f"No licence start fee: {name_en} is covered by your contract for {order.system_name}.",
                    code,
                )
            ]
        return [
            QuoteLine(
                ONE_TIME,
                "additional_system",
                money(price.additional_system),
                f"Tillæg for yderligere system: jeres kontrakt dækker kun {name_da} for navngivne systemer, og "
                f"{order.system_name} er ikke et af dem.",
                f"Additional-system fee: your contract covers {name_en} only for named systems, and "
                f"{order.system_name} is not one of them.",
                code,
            )
        ]
    if code in order.licensed:
        return [_held_licence_line(interface, order, contract, price)]
    return [
        QuoteLine(
            ONE_TIME,
            "licence_start",
            money(price.licence_start),
            f"Opstartsvederlag for licens til {name_da}: snitfladen er ikke i jeres kontrakt.",
            f"Licence start fee for {name_en}: the interface is not in your contract.",
            code,
        ),
        _licence_monthly_line(interface, order, contract, price),
    ]


def _licence_monthly_line(
    interface: InterfaceFacts, order: OrderFacts, contract: ContractFacts, price: InterfacePrice
) -> QuoteLine:
    name_da, name_en, code = interface.name_da, interface.en, interface.code
    if contract.terms != "tender":
        return QuoteLine(
            MONTHLY,
            "licence_monthly",
            money(price.monthly),
            f"Løbende vederlag for drift og vedligehold af {name_da} pr. måned – købt på standardvilkår gælder "
            "licensen alle jeres systemer.",
            f"Monthly fee for running and maintaining {name_en} – bought on standard terms, the licence serves "
            "all your systems.",
            code,
        )
    if contract.licence_scope == "all":
        return QuoteLine(
            MONTHLY,
            "licence_monthly",
            money(price.monthly),
            f"Løbende vederlag for drift og vedligehold af {name_da} pr. måned – efter jeres kontrakt (udbud) gælder "
            "licensen alle jeres systemer.",
            f"Monthly fee for running and maintaining {name_en} – under your (tender) contract the licence serves "
            "all your systems.",
            code,
        )
    return QuoteLine(
        MONTHLY,
        "licence_monthly_named",
        money(price.monthly),
        f"Løbende vederlag for drift og vedligehold af {name_da} pr. måned – efter jeres kontrakt (udbud) gælder "
        f"licensen {order.system_name}; hvert yderligere system betaler et engangsvederlag.",
        f"Monthly fee for running and maintaining {name_en} – under your (tender) contract the licence serves "
        f"{order.system_name}; each further system pays a one-time fee.",
        code,
    )


def _held_licence_line(
    interface: InterfaceFacts, order: OrderFacts, contract: ContractFacts, price: InterfacePrice
) -> QuoteLine:
    """A licence the customer already holds: free for this system, unless the contract ties licences to systems."""
    name_da, name_en, code = interface.name_da, interface.en, interface.code
    if contract.terms != "tender":
        return QuoteLine(
            ONE_TIME,
            "already_licensed",
            ZERO,
            f"Ingen licensstart: I har allerede licens til {name_da}; købt på standardvilkår gælder den alle jeres "
            "systemer.",
            f"No licence start fee: you already hold a licence for {name_en}; bought on standard terms it serves "
            "all your systems.",
            code,
        )
    if contract.licence_scope == "all":
        return QuoteLine(
            ONE_TIME,
            "already_licensed",
            ZERO,
            f"Ingen licensstart: I har allerede licens til {name_da}, og efter jeres kontrakt (udbud) gælder den "
            "alle jeres systemer.",
            f"No licence start fee: you already hold a licence for {name_en}, and under your (tender) contract it "
            "serves all your systems.",
            code,
        )
    if code in order.licensed_for_system:
        return QuoteLine(
            ONE_TIME,
            "licence_serves_system",
            ZERO,
            f"Ingen licensstart: jeres licens til {name_da} gælder allerede {order.system_name}.",
            f"No licence start fee: your licence for {name_en} already serves {order.system_name}.",
            code,
        )
    return QuoteLine(
        ONE_TIME,
        "licence_additional_system",
        money(price.additional_system),
        f"Tillæg for yderligere system: efter jeres kontrakt (udbud) gælder licensen til {name_da} kun de systemer, "
        f"den er købt til, og {order.system_name} er ikke et af dem.",
        f"Additional-system fee: under your (tender) contract the licence for {name_en} serves only the systems it "
        f"was bought for, and {order.system_name} is not one of them.",
        code,
    )


def _package_lines(order: OrderFacts, prices: PriceFacts) -> list[QuoteLine]:
    monthly = prices.packages.get(order.package_code)
    if monthly is None:
        raise MissingPrice(prices.name, "package", order.package_code)
    return [
        QuoteLine(
            ONE_TIME,
            "package_no_licence_start",
            ZERO,
            f"Ingen licensstart: ved integrationspakken {order.package_name} betales der ikke opstartsvederlag.",
            f"No licence start fee: the integration package {order.package_name} has none.",
        ),
        QuoteLine(
            MONTHLY,
            "package_monthly",
            money(monthly),
            f"Løbende vederlag for integrationspakken {order.package_name} pr. måned.",
            f"Monthly fee for the integration package {order.package_name}.",
        ),
    ]


def _startup_access_lines(order: OrderFacts) -> list[QuoteLine]:
    """The startup package's test access is covered by the package: no licence, package or setup fee."""
    return [
        QuoteLine(
            ONE_TIME,
            "startup_covers_licences",
            ZERO,
            f"Intet licensvederlag: {order.system_name}s adgang til det eksterne testmiljø i 6 måneder er dækket af "
            "opstartspakken.",
            f"No licence fee: {order.system_name}'s 6 months of access to the external test environment are covered "
            "by the startup package.",
        ),
        QuoteLine(
            ONE_TIME,
            "setup_covered_by_startup",
            ZERO,
            "Intet opsætningsvederlag: testadgangen er dækket af opstartspakken.",
            "No setup fee: the test access is covered by the startup package.",
        ),
    ]


def _setup_lines(order: OrderFacts, prices: PriceFacts) -> list[QuoteLine]:
    if order.reason == "phase_out":
        return [
            QuoteLine(
                ONE_TIME,
                "setup_waived_phase_out",
                ZERO,
                f"Intet opsætningsvederlag: {order.system_name} erstatter en filbaseret snitflade under udfasning.",
                f"No setup fee: {order.system_name} replaces a file interface being phased out.",
            )
        ]
    if order.reason == "change":
        return [
            QuoteLine(
                ONE_TIME,
                "setup_waived_change",
                ZERO,
                f"Intet opsætningsvederlag: {order.system_name} har allerede adgang; ændringen koster kun det nye.",
                f"No setup fee: {order.system_name} already has access; the change costs only what is new.",
            )
        ]
    if order.set_up_by:
        # "Opsætningsvederlag ... for hvert eksterne system": once per system, not for every order.
        return [
            QuoteLine(
                ONE_TIME,
                "setup_already_done",
                ZERO,
                f"Intet opsætningsvederlag: {order.system_name} er allerede sat op ({order.set_up_by}).",
                f"No setup fee: {order.system_name} is already set up ({order.set_up_by}).",
            )
        ]
    if order.replaces:
        return [
            QuoteLine(
                ONE_TIME,
                "setup_fee_replacement",
                money(prices.setup_fee),
                f"Opsætningsvederlag for adgang for {order.system_name}, der erstatter {order.replaces}.",
                f"Setup fee for {order.system_name}'s access, replacing {order.replaces}.",
            )
        ]
    return [
        QuoteLine(
            ONE_TIME,
            "setup_fee",
            money(prices.setup_fee),
            f"Opsætningsvederlag for adgang for {order.system_name}.",
            f"Setup fee for {order.system_name}'s access.",
        )
    ]
