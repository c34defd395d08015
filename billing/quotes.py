"""Quotes: the facts of an order, a customer's contract and a price list, read from the database and
handed to the pure core (billing/pricing.py). Reads only; nothing here writes.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from functools import cached_property

from django.db.models import DateField, DecimalField, F, Q, QuerySet, Value
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.prepared import Prepared, StartsWithPattern, starts_with_pattern
from ordering.models import AccessOrder, Addendum, Customer, Interface, MainContract, order_reference

from . import pricing
from .errors import NotAllowedNow, Refusal
from .models import InterfacePrice, PackagePrice, PriceList, RecurringFee, SharedFee

# Every live quote asks the same questions with only the customer, the system and the day changed: most are
# compiled once per process (core/prepared.py) rather than built and compiled by the ORM on every quote.
_DAY = DateField()


def price_list_on(day: datetime.date) -> PriceList:
    """The price list in force on `day`, without its prices: price_facts reads those, for the callers that quote."""
    price_list = _PRICE_LIST_ON.first(day=day)
    if price_list is None:
        raise NotAllowedNow(
            _("No price list is in force on %(day)s. A catalogue admin must add one.")
            % {"day": formats.date_format(day, "SHORT_DATE_FORMAT")}
        )
    return price_list


_PRICE_LIST_ON = Prepared(
    lambda p: PriceList.objects.filter(effective_from__lte=p.typed("day", _DAY)).order_by("-effective_from")[:1]
)


def price_facts(price_list: PriceList) -> pricing.PriceFacts:
    """The price list's prices, its interfaces' and its packages' in one statement: a row (kind, code, licence start
    fee, monthly fee, additional-system fee) for each, a package's fees due once left empty."""
    interfaces, packages = {}, {}
    for kind, code, start, monthly, additional in _PRICES.all(price_list=price_list.pk):
        if kind == "interface":
            interfaces[code] = pricing.InterfacePrice(start, monthly, additional)
        else:
            packages[code] = monthly
    return pricing.PriceFacts(
        name=str(price_list),
        interfaces=interfaces,
        packages=packages,
        setup_fee=price_list.setup_fee,
        startup_package=price_list.startup_package_price,
        consulting_hourly=price_list.consulting_hourly_rate,
        vat_rate=price_list.vat_rate,
    )


def _prices(p) -> QuerySet:
    no_fee = Value(None, output_field=DecimalField())
    interface_rows = InterfacePrice.objects.filter(price_list_id=p.price_list).annotate(
        kind=Value("interface"),
        code=F("interface__code"),
        start=F("licence_start_fee"),
        monthly=F("monthly_fee"),
        additional=F("additional_system_fee"),
    )
    package_rows = PackagePrice.objects.filter(price_list_id=p.price_list).annotate(
        kind=Value("package"), code=F("package__code"), start=no_fee, monthly=F("monthly_fee"), additional=no_fee
    )
    columns = ("kind", "code", "start", "monthly", "additional")
    return interface_rows.values_list(*columns).union(package_rows.values_list(*columns), all=True)


_PRICES = Prepared(_prices)


def contract_facts(customer: Customer) -> pricing.ContractFacts:
    """The customer's main contract, its lines and their named systems in one statement: a row for each named
    system of each line, with None for the system of a line that names none, and for the line of a contract
    that has none."""
    rows = _CONTRACT_LINES.all(customer=customer.pk)
    if not rows:
        return pricing.ContractFacts()
    coverage, named = {}, defaultdict(set)
    for _reference, _terms, _scope, code, line_coverage, system_id in rows:
        if code is not None:
            coverage[code] = line_coverage
            if system_id is not None:
                named[code].add(system_id)
    reference, terms, licence_scope = rows[0][:3]
    return pricing.ContractFacts(
        reference=reference,
        terms=terms,
        licence_scope=licence_scope,
        included={code: pricing.ContractLine(c, frozenset(named[code])) for code, c in coverage.items()},
    )


_CONTRACT_LINES = Prepared(
    lambda p: MainContract.objects.filter(customer_id=p.customer).values_list(
        "reference",
        "terms",
        "licence_scope",
        "included_interfaces__interface__code",
        "included_interfaces__coverage",
        "included_interfaces__named_systems",
    )
)


def active_licence_codes(customer_id: int, day: datetime.date, exclude_order: AccessOrder | None = None) -> set[str]:
    excluded = exclude_order.pk if exclude_order is not None else None
    return set(_LICENCE_CODES.all(shape=(excluded is not None,), customer=customer_id, day=day, order=excluded))


def _licence_codes(p, excluding: bool) -> QuerySet:
    day = p.typed("day", _DAY)
    fees = RecurringFee.objects.filter(
        customer_id=p.customer, kind=RecurringFee.Kind.LICENCE, starts_on__lte=day
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))
    if excluding:
        fees = fees.exclude(order_id=p.order)
    return fees.values_list("interface__code", flat=True)


_LICENCE_CODES = Prepared(_licence_codes)


def set_up_by(customer_id: int, system, exclude_order: AccessOrder | None = None) -> str:
    """The reference of the earliest running access that already set this system up for the customer, or "".

    In either environment: the setup fee is due once per external system ("for hvert eksterne system"), and
    test and production access for the same system are one system set up. A startup package's test access
    is not a setup: the package covers it, and no setup fee was paid for it. An access still being established
    does not count yet: the setup fee it pays is pending with it (SharedFee), and one that pays none (a
    phase-out) may still end before it is established.
    """
    excluded = exclude_order.pk if exclude_order is not None and exclude_order.pk else None
    first = _SET_UP_BY.first(shape=(excluded is not None,), customer=customer_id, system=system.pk, order=excluded)
    return order_reference(first) if first else ""


def _set_up_by(p, excluding: bool) -> QuerySet:
    live = AccessOrder.objects.access_running().filter(
        customer_id=p.customer, external_system_id=p.system, startup_package=False
    )
    if excluding:
        live = live.exclude(pk=p.order)
    return live.order_by("pk").values_list("pk", flat=True)[:1]


_SET_UP_BY = Prepared(_set_up_by)


def shared_fees_of(customer_id: int, system_id: int, exclude_order: AccessOrder | None = None) -> dict:
    """What the pricing core needs of the customer's fees due once (billing/pricing.py, "Fees due once"):
    those pending with another order, those pending with this one, and the interfaces whose contract now
    covers this system after its additional-system fee. Every live quote asks it: compiled once per process."""
    this = exclude_order.pk if exclude_order is not None and exclude_order.pk else None
    paid_by_other, paid_by_this, covered = {}, set(), {}
    prefix = pricing.additional_system_key(system_id, "")
    rows = _SHARED_FEES.all(customer=customer_id, pattern=starts_with_pattern(prefix))
    for fee_id, key, order_id, holder_system_id, charge_id in rows:
        if charge_id is not None:
            covered[key[len(prefix) :]] = order_reference(order_id)
        elif order_id == this:
            paid_by_this.add(key)
        else:
            paid_by_other[key] = pricing.Holder(order_reference(order_id), fee_id, holder_system_id)
    return {"paid_by_other": paid_by_other, "paid_by_this": frozenset(paid_by_this), "covered_after_fee": covered}


SharedFee._meta.get_field("key").register_lookup(StartsWithPattern)
_SHARED_FEES = Prepared(
    lambda p: (
        SharedFee.objects.filter(customer_id=p.customer)
        # Pending, or this system's additional-system fees (`key__startswith=prefix`, as a prepared query can ask it).
        .filter(Q(charge__isnull=True) | Q(key__starts_with_pattern=p.pattern))
        .values_list("pk", "key", "order_id", "order__external_system_id", "charge_id")
    )
)


def _replaces(replaced: AccessOrder | None) -> str:
    return f"{replaced.external_system.name} ({replaced.reference})" if replaced is not None else ""


def licences_serving_system(customer_id: int, system_id: int, exclude_order: AccessOrder | None = None) -> set[str]:
    """The interfaces whose licence already serves this system: those it has live access to by another order."""
    live = AccessOrder.objects.access_agreed().filter(customer_id=customer_id, external_system_id=system_id)
    if exclude_order is not None and exclude_order.pk:
        live = live.exclude(pk=exclude_order.pk)
    # A live access's interfaces are its own, a package order's frozen when its addendum was issued: never
    # the package as a catalogue admin may have changed it since (PACKAGE_READ_LIVE_STATES).
    return {code for code in live.values_list("interfaces__code", flat=True) if code}


def with_licences_serving(
    facts: pricing.OrderFacts, contract: pricing.ContractFacts, customer_id: int, exclude_order=None
) -> pricing.OrderFacts:
    """Only a contract that ties licences to named systems needs to know which systems a licence serves."""
    if contract.licences_serve_all_systems or not facts.licensed:
        return facts
    served = licences_serving_system(customer_id, facts.system_id, exclude_order)
    return dataclasses.replace(facts, licensed_for_system=frozenset(served & facts.licensed))


def order_facts(
    order: AccessOrder, *, day: datetime.date | None = None, interfaces: list[Interface] | None = None
) -> pricing.OrderFacts:
    """`interfaces`: the order's requested_interfaces() as the caller has just read them (the order page); without
    them they are read here, so that a service quotes the order as it is now."""
    return facts_of(
        customer_id=order.customer_id,
        system=order.external_system,
        replaces=order.replaces_order,
        purchase_model=order.purchase_model,
        package=order.package,
        interfaces=order.requested_interfaces() if interfaces is None else interfaces,
        reason=order.reason,
        startup_package=order.startup_package,
        changes_order=order.changes_order,
        adjustments=[(a.kind, a.amount, a.reason) for a in order.quote_adjustments.all()],
        exclude_order=order,
        day=day or timezone.localdate(),
    )


def interface_facts(interfaces) -> tuple[pricing.InterfaceFacts, ...]:
    return tuple(pricing.InterfaceFacts(i.code, i.name_da, i.name_en) for i in interfaces)


def facts_of(
    *,
    customer_id,
    system,
    replaces,
    purchase_model,
    package,
    interfaces,
    reason,
    startup_package,
    changes_order,
    adjustments=(),
    exclude_order=None,
    day,
) -> pricing.OrderFacts:
    """The pricing core's facts of an order, saved or still in the form (FormReads)."""
    existing = frozenset(i.code for i in changes_order.requested_interfaces()) if changes_order else frozenset()
    return pricing.OrderFacts(
        purchase_model=purchase_model,
        system_id=system.pk,
        system_name=system.name,
        reason=reason,
        interfaces=interface_facts(interfaces),
        package_code=package.code if package else "",
        package_name=package.name_da if package else "",
        startup_package=bool(startup_package),
        licensed=frozenset(active_licence_codes(customer_id, day, exclude_order=exclude_order)),
        existing_access=existing,
        set_up_by=set_up_by(customer_id, system, exclude_order),
        replaces=_replaces(replaces),
        adjustments=tuple(adjustments),
        **shared_fees_of(customer_id, system.pk, exclude_order),
    )


def quote_for_order(
    order: AccessOrder, *, day: datetime.date | None = None, interfaces: list[Interface] | None = None
) -> tuple[pricing.Quote, PriceList]:
    """The live quote: today's price list, the customer's contract and licences, the order's facts (order_facts
    says what `interfaces` is)."""
    day = day or timezone.localdate()
    price_list = price_list_on(day)
    contract = contract_facts(order.customer)
    facts = order_facts(order, day=day, interfaces=interfaces)
    facts = with_licences_serving(facts, contract, order.customer_id, exclude_order=order)
    return _quote(facts, contract, price_facts(price_list)), price_list


def _quote(order: pricing.OrderFacts, contract: pricing.ContractFacts, prices: pricing.PriceFacts) -> pricing.Quote:
    """The pure core's quote; a price the list lacks becomes a refusal the user can read."""
    try:
        return pricing.quote(order, contract, prices)
    except pricing.MissingPrice as missing:
        raise NotAllowedNow(
            _("The price list %(price_list)s has no price for %(code)s. A catalogue admin must add one.")
            % {"price_list": missing.price_list, "code": missing.code}
        ) from None


class FormReads:
    """What the new-order form's quote and its comparison (billing/comparison.py) both read, each read once when first
    needed: the price list in force with its prices, the customer's contract, and the customer's facts for the chosen
    system (licences, who set it up, the fees due once, the licences serving it). The live preview shows both on
    every change of the form, so each read is made once for the two. Built for one request's answers, never kept."""

    def __init__(self, customer: Customer, answers: dict) -> None:
        self.customer = customer
        self.answers = answers
        self.day = timezone.localdate()

    @cached_property
    def prices(self) -> pricing.PriceFacts:
        """Raises NotAllowedNow when no price list is in force."""
        return price_facts(price_list_on(self.day))

    @cached_property
    def contract(self) -> pricing.ContractFacts:
        return contract_facts(self.customer)

    @cached_property
    def single(self) -> pricing.OrderFacts:
        """The answers' facts as a single purchase of no interface yet, without the startup package: each quote
        replaces what it buys."""
        answers = self.answers
        reason = answers.get("reason") or AccessOrder.Reason.NEW
        return facts_of(
            customer_id=self.customer.pk,
            system=answers["external_system"],
            replaces=answers.get("replaces_order") if reason == AccessOrder.Reason.NEW else None,
            purchase_model=AccessOrder.PurchaseModel.SINGLE,
            package=None,
            interfaces=[],
            reason=reason,
            startup_package=False,
            changes_order=answers.get("changes_order") if reason == AccessOrder.Reason.CHANGE else None,
            day=self.day,
        )

    @cached_property
    def licensed_for_system(self) -> frozenset[str]:
        """The customer's licences already serving the system (with_licences_serving): the same whatever is bought."""
        return with_licences_serving(self.single, self.contract, self.customer.pk).licensed_for_system


def quote_for_form(customer: Customer, facts: dict, reads: FormReads | None = None) -> pricing.Quote | None:
    """The quote for an order not saved yet, from the new-order form's current answers; `reads` shared with the
    comparison (billing/comparison.py form_quotes)."""
    system = facts.get("external_system")
    model = facts.get("purchase_model")
    package = facts.get("package") if model == "package" else None
    interfaces = list(facts.get("interfaces") or []) if model == "single" else []
    if system is None or (model == "package" and package is None) or (model == "single" and not interfaces):
        return None
    if package is not None:
        interfaces = list(package.interfaces.all())
    reads = reads or FormReads(customer, facts)
    try:
        order_facts_ = dataclasses.replace(
            reads.single,
            purchase_model=model,
            package_code=package.code if package else "",
            package_name=package.name_da if package else "",
            interfaces=interface_facts(interfaces),
            startup_package=bool(facts.get("startup_package")),
            # Only an answered "new" names the access replaced; FormReads.single takes no answer as "new".
            replaces=_replaces(facts.get("replaces_order") if facts.get("reason") == "new" else None),
            licensed_for_system=reads.licensed_for_system,
        )
        return _quote(order_facts_, reads.contract, reads.prices)
    except Refusal:
        return None


def frozen_quote(order: AccessOrder) -> pricing.Quote | None:
    """The quote of the newest version that froze one. From every version as read, not a query of its own: the order
    page has read them all for its table (ordering/views.py _detail_context)."""
    frozen = [addendum for addendum in order.addenda.all() if addendum.quote is not None]
    newest = max(frozen, key=lambda addendum: addendum.version, default=None)
    return pricing.Quote.from_dict(newest.quote) if newest else None


def addendum_quote(addendum: Addendum) -> pricing.Quote | None:
    """The quote frozen in one addendum version, as its document prints it."""
    return pricing.Quote.from_dict(addendum.quote) if addendum.quote else None
