"""Price quotes: pure functions over plain data (no database, no Django).

`quote(order, contract, prices)` explains, line by line, what an order costs against the
customer's contract: one-time lines (due when access is established) and monthly lines (running
from activation to closure). Every line carries a rule code and a Danish and English sentence.
Amounts are Decimal, rounded half-up to øre per line; totals are sums of the rounded lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

ORE = Decimal("0.01")
ZERO = Decimal("0.00")
ONE_TIME, MONTHLY = "one_time", "monthly"


class Rule(StrEnum):
    """Why a quote line costs what it does: the code on every QuoteLine, one per rule below.

    The values are stored: in every frozen quote (Addendum.quote) and on every charge (Charge.rule). They never
    change; a new rule is a new member, with its wording in the contract addendum (billing/addendum_wording.py).
    """

    # An interface bought one by one
    LICENCE_START = "licence_start"
    LICENCE_MONTHLY = "licence_monthly"
    LICENCE_MONTHLY_NAMED = "licence_monthly_named"
    LICENCE_SERVES_SYSTEM = "licence_serves_system"
    LICENCE_ADDITIONAL_SYSTEM = "licence_additional_system"
    ALREADY_LICENSED = "already_licensed"
    ALREADY_IN_ACCESS = "already_in_access"
    COVERED_ALL_SYSTEMS = "covered_all_systems"
    COVERED_NAMED_SYSTEM = "covered_named_system"
    ADDITIONAL_SYSTEM = "additional_system"
    COVERED_AFTER_ADDITIONAL_FEE = "covered_after_additional_fee"
    # An integration package
    PACKAGE_NO_LICENCE_START = "package_no_licence_start"
    PACKAGE_MONTHLY = "package_monthly"
    # Setting the external system up
    SETUP_FEE = "setup_fee"
    SETUP_FEE_REPLACEMENT = "setup_fee_replacement"
    SETUP_ALREADY_DONE = "setup_already_done"
    SETUP_WAIVED_PHASE_OUT = "setup_waived_phase_out"
    SETUP_WAIVED_CHANGE = "setup_waived_change"
    # The startup package
    STARTUP_PACKAGE = "startup_package"
    STARTUP_COVERS_LICENCES = "startup_covers_licences"
    SETUP_COVERED_BY_STARTUP = "setup_covered_by_startup"
    # The account manager's adjustment
    ADJUSTMENT = "adjustment"
    # Fees due once for several orders, paid with another order (WITH_ORDER_RULES)
    LICENCE_START_WITH_ORDER = "licence_start_with_order"
    LICENCE_MONTHLY_WITH_ORDER = "licence_monthly_with_order"
    SETUP_WITH_ORDER = "setup_with_order"
    ADDITIONAL_SYSTEM_WITH_ORDER = "additional_system_with_order"


# The Danish text of an adjustment line is this prefix and the account manager's reason (the addendum reads the
# reason back: billing/addendum_wording.py).
ADJUSTMENT_PREFIX_DA = "Justering aftalt med jeres salgs- og kundeansvarlige: "

# The monthly lines that start an interface licence when access is established (billing/services.py).
LICENCE_MONTHLY_RULES = frozenset({Rule.LICENCE_MONTHLY, Rule.LICENCE_MONTHLY_NAMED, Rule.LICENCE_MONTHLY_WITH_ORDER})


# --- Fees due once for several orders ----------------------------------------------------------
#
# Some one-time fees are due once for the customer, however many orders need what they pay for: the
# licence start fee once per interface (on standard terms: "har I adgang til at anvende disse til alle
# de eksterne systemer, I ønsker"), the setup fee once per external system (in either environment), and
# the additional-system fee once per system and interface (then the contract covers the system). Each
# such line carries a key naming what it pays for. The first order whose addendum prices it pays it;
# every other order that needs it meanwhile names that order and pays nothing, unless that order ends
# before its access is established: then the fee moves to the next, exactly once (billing/services.py).


def licence_key(code: str) -> str:
    return f"licence:{code}"


def setup_key(system_id: int) -> str:
    return f"setup:{system_id}"


ADDITIONAL_SYSTEM_KEYS = "additional:"  # what every additional-system fee's key begins with


def additional_system_key(system_id: int, code: str) -> str:
    return f"{ADDITIONAL_SYSTEM_KEYS}{system_id}:{code}"


@dataclass(frozen=True)
class Holder:
    """The order a fee due once is pending with, and that fee's own number (billing.models.SharedFee): a line
    that names it is the promise to pay exactly that fee should that order end unestablished."""

    reference: str
    fee_id: int = 0
    system_id: int = 0  # the external system of the order it is pending with


# A line whose fee another order pays ("…_with_order"): its amount is 0, `if_moved` what it costs should the
# fee move to this order, and `shared_fee` which fee it is.
WITH_ORDER_RULES = frozenset(
    {
        Rule.LICENCE_START_WITH_ORDER,
        Rule.LICENCE_MONTHLY_WITH_ORDER,
        Rule.SETUP_WITH_ORDER,
        Rule.ADDITIONAL_SYSTEM_WITH_ORDER,
    }
)


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
    # Fees due once (see "Fees due once" above), by key: those another order is to pay (key -> its
    # reference), and those this order is to pay already (its own earlier addendum version priced them).
    paid_by_other: Mapping[str, Holder] = field(default_factory=dict)
    paid_by_this: frozenset[str] = frozenset()
    # Interfaces whose contract now covers this system, the additional-system fee having been paid
    # (code -> the reference of the order that paid it).
    covered_after_fee: Mapping[str, str] = field(default_factory=dict)


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
    rule: Rule
    amount: Decimal
    da: str
    en: str
    interface: str = ""
    # What the line pays for when the fee is due once for several orders ("Fees due once"), and, on a
    # line whose fee another order pays, what it costs should the fee move to this order.
    key: str = ""
    if_moved: Decimal | None = None
    shared_fee: int | None = None

    def __post_init__(self) -> None:
        # A rule no member names (a typo, a quote frozen by a newer release) fails here, loudly: never a line
        # that billing or the addendum would read as some other rule, or as none.
        object.__setattr__(self, "rule", Rule(self.rule))

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
            "lines": [_line_dict(x) for x in self.lines],
        }

    @classmethod
    def from_dict(cls, data: dict) -> Quote:
        return cls(
            price_list=data["price_list"],
            vat_rate=Decimal(data["vat_rate"]),
            lines=tuple(
                QuoteLine(
                    x["kind"],
                    x["rule"],
                    Decimal(x["amount"]),
                    x["da"],
                    x["en"],
                    x.get("interface", ""),
                    x.get("key", ""),
                    Decimal(x["if_moved"]) if x.get("if_moved") is not None else None,
                    x.get("shared_fee"),
                )
                for x in data["lines"]
            ),
        )


def _line_dict(line: QuoteLine) -> dict:
    data = {
        "kind": line.kind,
        "rule": line.rule.value,
        "amount": str(line.amount),
        "da": line.da,
        "en": line.en,
        "interface": line.interface,
    }
    # Only on the lines that have them: quotes frozen before they existed read the same.
    if line.key:
        data["key"] = line.key
    if line.if_moved is not None:
        data["if_moved"] = str(line.if_moved)
    if line.shared_fee is not None:
        data["shared_fee"] = line.shared_fee
    return data


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
                Rule.STARTUP_PACKAGE,
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
                Rule.ADJUSTMENT,
                money(amount),
                f"{ADJUSTMENT_PREFIX_DA}{reason}",
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
                Rule.ALREADY_IN_ACCESS,
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
                Rule.COVERED_ALL_SYSTEMS,
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
                    Rule.COVERED_NAMED_SYSTEM,
                    ZERO,
                    f"Ingen licensstart: {name_da} er omfattet af jeres kontrakt for {order.system_name}.",
                    f"No licence start fee: {name_en} is covered by your contract for {order.system_name}.",
                    code,
                )
            ]
        return [
            _additional_system_line(
                interface,
                order,
                price,
                Rule.ADDITIONAL_SYSTEM,
                f"Tillæg for yderligere system: jeres kontrakt dækker kun {name_da} for navngivne systemer, og "
                f"{order.system_name} er ikke et af dem; herefter dækker kontrakten også {order.system_name}.",
                f"Additional-system fee: your contract covers {name_en} only for named systems, and "
                f"{order.system_name} is not one of them; from then on the contract covers {order.system_name} too.",
            )
        ]
    key = licence_key(code)
    if not contract.licences_serve_all_systems:
        return _named_licence_lines(interface, order, contract, price)
    if key in order.paid_by_this:
        return [_licence_start_line(interface, price), _licence_monthly_line(interface, order, contract, price)]
    if key in order.paid_by_other:
        return _licence_with_order_lines(interface, order, price, order.paid_by_other[key])
    if code in order.licensed:
        return [_held_licence_line(interface, order, contract, price)]
    return [_licence_start_line(interface, price), _licence_monthly_line(interface, order, contract, price)]


def _named_licence_lines(
    interface: InterfaceFacts, order: OrderFacts, contract: ContractFacts, price: InterfacePrice
) -> list[QuoteLine]:
    """Tender terms tying a licence to the systems it is bought for: the licence is still bought once, and each
    further system pays the additional-system fee, once, whether the licence is held or still being bought."""
    key = licence_key(interface.code)
    if interface.code in order.licensed and key not in order.paid_by_this:
        return [_held_licence_line(interface, order, contract, price)]
    holder = order.paid_by_other.get(key)
    if holder is not None and key not in order.paid_by_this:
        if holder.system_id == order.system_id:  # the same system's other environment: the same licence
            return _licence_with_order_lines(interface, order, price, holder, serves=order.system_name)
        return [_tender_additional_system_line(interface, order, price)]
    return [_licence_start_line(interface, price), _licence_monthly_line(interface, order, contract, price)]


def _licence_start_line(interface: InterfaceFacts, price: InterfacePrice) -> QuoteLine:
    return QuoteLine(
        ONE_TIME,
        Rule.LICENCE_START,
        money(price.licence_start),
        f"Opstartsvederlag for licens til {interface.name_da}: snitfladen er ikke i jeres kontrakt.",
        f"Licence start fee for {interface.en}: the interface is not in your contract.",
        interface.code,
        key=licence_key(interface.code),
    )


def _licence_with_order_lines(
    interface: InterfaceFacts, order: OrderFacts, price: InterfacePrice, paid_by: Holder, serves: str = ""
) -> list[QuoteLine]:
    """Another order of the customer buys the licence: one licence serves all the customer's systems (or, under
    tender terms naming systems, this system in both environments: `serves`)."""
    name_da, name_en, code = interface.name_da, interface.en, interface.code
    holder = paid_by.reference
    serves_da, serves_en = (serves, serves) if serves else ("alle eksterne systemer", "all external systems")
    start, monthly = money(price.licence_start), money(price.monthly)
    return [
        QuoteLine(
            ONE_TIME,
            Rule.LICENCE_START_WITH_ORDER,
            ZERO,
            f"Intet opstartsvederlag for licens til {name_da} her: licensen købes med {holder} og gælder "
            f"{serves_da}. Bliver {holder} trukket tilbage, afvist eller lukket, før adgangen er etableret, "
            f"betales opstartsvederlaget ({kroner(start)}) med denne bestilling i stedet – én gang.",
            f"No licence start fee for {name_en} here: the licence is bought with {holder} and serves {serves_en}. "
            f"Should {holder} be withdrawn, declined or closed before its access is established, the "
            f"licence start fee ({kroner_en(start)}) is paid with this order instead – once.",
            code,
            key=licence_key(code),
            if_moved=start,
            shared_fee=paid_by.fee_id,
        ),
        QuoteLine(
            MONTHLY,
            Rule.LICENCE_MONTHLY_WITH_ORDER,
            ZERO,
            f"Løbende vederlag for drift og vedligehold af {name_da}: betales én gang for licensen "
            f"({kroner(monthly)} pr. måned), fra den første adgang til snitfladen er etableret.",
            f"Monthly fee for running and maintaining {name_en}: paid once for the licence ({kroner_en(monthly)} a "
            "month), from when the first access to the interface is established.",
            code,
            key=licence_key(code),
            if_moved=monthly,
            shared_fee=paid_by.fee_id,
        ),
    ]


def _additional_system_line(
    interface: InterfaceFacts, order: OrderFacts, price: InterfacePrice, rule: Rule, da: str, en: str
) -> QuoteLine:
    """The one-time fee for one more system: once per system and interface, then the system is covered."""
    name_da, name_en, code = interface.name_da, interface.en, interface.code
    if code in order.covered_after_fee:
        paid_with = order.covered_after_fee[code]
        return QuoteLine(
            ONE_TIME,
            Rule.COVERED_AFTER_ADDITIONAL_FEE,
            ZERO,
            f"Ingen licensstart: {name_da} dækker {order.system_name}, efter at vederlaget for yderligere system er "
            f"betalt med {paid_with}.",
            f"No licence start fee: {name_en} covers {order.system_name}, the additional-system fee having been paid "
            f"with {paid_with}.",
            code,
        )
    key = additional_system_key(order.system_id, code)
    fee = money(price.additional_system)
    if key in order.paid_by_other:
        paid_by = order.paid_by_other[key]
        holder = paid_by.reference
        return QuoteLine(
            ONE_TIME,
            Rule.ADDITIONAL_SYSTEM_WITH_ORDER,
            ZERO,
            f"Intet vederlag for yderligere system her: det betales for {order.system_name} og {name_da} med "
            f"{holder}. Bliver {holder} trukket tilbage, afvist eller lukket, før adgangen er etableret, betales "
            f"vederlaget ({kroner(fee)}) med denne bestilling i stedet – én gang.",
            f"No additional-system fee here: it is paid for {order.system_name} and {name_en} with {holder}. Should "
            f"{holder} be withdrawn, declined or closed before its access is established, the fee "
            f"({kroner_en(fee)}) is paid with this order instead – once.",
            code,
            key=key,
            if_moved=fee,
            shared_fee=paid_by.fee_id,
        )
    return QuoteLine(ONE_TIME, rule, fee, da, en, code, key=key)


def _licence_monthly_line(
    interface: InterfaceFacts, order: OrderFacts, contract: ContractFacts, price: InterfacePrice
) -> QuoteLine:
    name_da, name_en, code = interface.name_da, interface.en, interface.code
    if contract.terms != "tender":
        return QuoteLine(
            MONTHLY,
            Rule.LICENCE_MONTHLY,
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
            Rule.LICENCE_MONTHLY,
            money(price.monthly),
            f"Løbende vederlag for drift og vedligehold af {name_da} pr. måned – efter jeres kontrakt (udbud) gælder "
            "licensen alle jeres systemer.",
            f"Monthly fee for running and maintaining {name_en} – under your (tender) contract the licence serves "
            "all your systems.",
            code,
        )
    return QuoteLine(
        MONTHLY,
        Rule.LICENCE_MONTHLY_NAMED,
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
            Rule.ALREADY_LICENSED,
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
            Rule.ALREADY_LICENSED,
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
            Rule.LICENCE_SERVES_SYSTEM,
            ZERO,
            f"Ingen licensstart: jeres licens til {name_da} gælder allerede {order.system_name}.",
            f"No licence start fee: your licence for {name_en} already serves {order.system_name}.",
            code,
        )
    return _tender_additional_system_line(interface, order, price)


def _tender_additional_system_line(interface: InterfaceFacts, order: OrderFacts, price: InterfacePrice) -> QuoteLine:
    name_da, name_en = interface.name_da, interface.en
    return _additional_system_line(
        interface,
        order,
        price,
        Rule.LICENCE_ADDITIONAL_SYSTEM,
        f"Tillæg for yderligere system: efter jeres kontrakt (udbud) gælder licensen til {name_da} kun de systemer, "
        f"den er købt til, og {order.system_name} er ikke et af dem; herefter gælder den også {order.system_name}.",
        f"Additional-system fee: under your (tender) contract the licence for {name_en} serves only the systems it "
        f"was bought for, and {order.system_name} is not one of them; from then on it serves {order.system_name} "
        "too.",
    )


def _package_lines(order: OrderFacts, prices: PriceFacts) -> list[QuoteLine]:
    monthly = prices.packages.get(order.package_code)
    if monthly is None:
        raise MissingPrice(prices.name, "package", order.package_code)
    return [
        QuoteLine(
            ONE_TIME,
            Rule.PACKAGE_NO_LICENCE_START,
            ZERO,
            f"Ingen licensstart: ved integrationspakken {order.package_name} betales der ikke opstartsvederlag.",
            f"No licence start fee: the integration package {order.package_name} has none.",
        ),
        QuoteLine(
            MONTHLY,
            Rule.PACKAGE_MONTHLY,
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
            Rule.STARTUP_COVERS_LICENCES,
            ZERO,
            f"Intet licensvederlag: {order.system_name}s adgang til det eksterne testmiljø i 6 måneder er dækket af "
            "opstartspakken.",
            f"No licence fee: {order.system_name}'s 6 months of access to the external test environment are covered "
            "by the startup package.",
        ),
        QuoteLine(
            ONE_TIME,
            Rule.SETUP_COVERED_BY_STARTUP,
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
                Rule.SETUP_WAIVED_PHASE_OUT,
                ZERO,
                f"Intet opsætningsvederlag: {order.system_name} erstatter en filbaseret snitflade under udfasning.",
                f"No setup fee: {order.system_name} replaces a file interface being phased out.",
            )
        ]
    if order.reason == "change":
        return [
            QuoteLine(
                ONE_TIME,
                Rule.SETUP_WAIVED_CHANGE,
                ZERO,
                f"Intet opsætningsvederlag: {order.system_name} har allerede adgang; ændringen koster kun det nye.",
                f"No setup fee: {order.system_name} already has access; the change costs only what is new.",
            )
        ]
    key = setup_key(order.system_id)
    if key in order.paid_by_other and key not in order.paid_by_this:
        paid_by = order.paid_by_other[key]
        holder = paid_by.reference
        fee = money(prices.setup_fee)
        return [
            QuoteLine(
                ONE_TIME,
                Rule.SETUP_WITH_ORDER,
                ZERO,
                f"Intet opsætningsvederlag her: {order.system_name} sættes op med {holder}, og vederlaget betales én "
                f"gang pr. eksternt system, i test- og produktionsmiljøet tilsammen. Bliver {holder} trukket "
                f"tilbage, afvist eller lukket, før adgangen er etableret, betales opsætningsvederlaget "
                f"({kroner(fee)}) med denne bestilling i stedet – én gang.",
                f"No setup fee here: {order.system_name} is set up with {holder}, and the fee is paid once per "
                f"external system, for the test and production environments together. Should {holder} be withdrawn, "
                f"declined or closed before its access is established, the setup fee ({kroner_en(fee)}) is paid "
                "with this order instead – once.",
                key=key,
                if_moved=fee,
                shared_fee=paid_by.fee_id,
            )
        ]
    if order.set_up_by and key not in order.paid_by_this:
        # "Opsætningsvederlag ... for hvert eksterne system": once per system, whichever environment, not for
        # every order.
        return [
            QuoteLine(
                ONE_TIME,
                Rule.SETUP_ALREADY_DONE,
                ZERO,
                f"Intet opsætningsvederlag: {order.system_name} er allerede sat op ({order.set_up_by}); vederlaget "
                "betales én gang pr. eksternt system, i test- og produktionsmiljøet tilsammen.",
                f"No setup fee: {order.system_name} is already set up ({order.set_up_by}); the fee is paid once per "
                "external system, for the test and production environments together.",
            )
        ]
    if order.replaces:
        return [
            QuoteLine(
                ONE_TIME,
                Rule.SETUP_FEE_REPLACEMENT,
                money(prices.setup_fee),
                f"Opsætningsvederlag for adgang for {order.system_name}, der erstatter {order.replaces}.",
                f"Setup fee for {order.system_name}'s access, replacing {order.replaces}.",
                key=key,
            )
        ]
    return [
        QuoteLine(
            ONE_TIME,
            Rule.SETUP_FEE,
            money(prices.setup_fee),
            f"Opsætningsvederlag for adgang for {order.system_name}.",
            f"Setup fee for {order.system_name}'s access.",
            key=key,
        )
    ]
