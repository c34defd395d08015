"""Quotes: the facts of an order, a customer's contract and a price list, read from the database and
handed to the pure core (billing/pricing.py). Reads only; nothing here writes.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ordering.models import AccessOrder, Addendum, Customer, order_reference

from . import pricing
from .errors import NotAllowedNow, Refusal
from .models import PriceList, RecurringFee, SharedFee


def price_list_on(day: datetime.date) -> PriceList:
    price_list = (
        PriceList.objects.filter(effective_from__lte=day)
        .prefetch_related("interface_prices__interface", "package_prices__package")
        .order_by("-effective_from")
        .first()
    )
    if price_list is None:
        raise NotAllowedNow(
            _("No price list is in force on %(day)s. A catalogue admin must add one.")
            % {"day": formats.date_format(day, "SHORT_DATE_FORMAT")}
        )
    return price_list


def price_facts(price_list: PriceList) -> pricing.PriceFacts:
    return pricing.PriceFacts(
        name=str(price_list),
        interfaces={
            p.interface.code: pricing.InterfacePrice(p.licence_start_fee, p.monthly_fee, p.additional_system_fee)
            for p in price_list.interface_prices.all()
        },
        packages={p.package.code: p.monthly_fee for p in price_list.package_prices.all()},
        setup_fee=price_list.setup_fee,
        startup_package=price_list.startup_package_price,
        consulting_hourly=price_list.consulting_hourly_rate,
        vat_rate=price_list.vat_rate,
    )


def contract_facts(customer: Customer) -> pricing.ContractFacts:
    contract = getattr(customer, "contract", None)
    if contract is None:
        return pricing.ContractFacts()
    lines = contract.included_interfaces.select_related("interface").prefetch_related("named_systems")
    return pricing.ContractFacts(
        reference=contract.reference,
        terms=contract.terms,
        licence_scope=contract.licence_scope,
        included={
            line.interface.code: pricing.ContractLine(line.coverage, frozenset(s.pk for s in line.named_systems.all()))
            for line in lines
        },
    )


def active_licence_codes(customer_id: int, day: datetime.date, exclude_order: AccessOrder | None = None) -> set[str]:
    fees = RecurringFee.objects.filter(
        customer_id=customer_id, kind=RecurringFee.Kind.LICENCE, starts_on__lte=day
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))
    if exclude_order is not None:
        fees = fees.exclude(order=exclude_order)
    return set(fees.values_list("interface__code", flat=True))


def set_up_by(customer_id: int, system, exclude_order: AccessOrder | None = None) -> str:
    """The reference of the earliest running access that already set this system up for the customer, or "".

    In either environment: the setup fee is due once per external system ("for hvert eksterne system"), and
    test and production access for the same system are one system set up. A startup package's test access
    is not a setup: the package covers it, and no setup fee was paid for it. An access still being established
    does not count yet: the setup fee it pays is pending with it (SharedFee), and one that pays none (a
    phase-out) may still end before it is established.
    """
    live = AccessOrder.objects.access_running().filter(
        customer_id=customer_id, external_system=system, startup_package=False
    )
    if exclude_order is not None and exclude_order.pk:
        live = live.exclude(pk=exclude_order.pk)
    first = live.order_by("pk").values_list("pk", flat=True).first()
    return order_reference(first) if first else ""


def shared_fees_of(customer_id: int, system_id: int, exclude_order: AccessOrder | None = None) -> dict:
    """What the pricing core needs of the customer's fees due once (billing/pricing.py, "Fees due once"):
    those pending with another order, those pending with this one, and the interfaces whose contract now
    covers this system after its additional-system fee."""
    this = exclude_order.pk if exclude_order is not None and exclude_order.pk else None
    paid_by_other, paid_by_this, covered = {}, set(), {}
    prefix = pricing.additional_system_key(system_id, "")
    fees = SharedFee.objects.filter(customer_id=customer_id).filter(Q(charge__isnull=True) | Q(key__startswith=prefix))
    rows = fees.values_list("pk", "key", "order_id", "order__external_system_id", "charge_id")
    for fee_id, key, order_id, holder_system_id, charge_id in rows:
        if charge_id is not None:
            covered[key[len(prefix) :]] = order_reference(order_id)
        elif order_id == this:
            paid_by_this.add(key)
        else:
            paid_by_other[key] = pricing.Holder(order_reference(order_id), fee_id, holder_system_id)
    return {"paid_by_other": paid_by_other, "paid_by_this": frozenset(paid_by_this), "covered_after_fee": covered}


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


def order_facts(order: AccessOrder, *, day: datetime.date | None = None) -> pricing.OrderFacts:
    return facts_of(
        customer_id=order.customer_id,
        system=order.external_system,
        replaces=order.replaces_order,
        purchase_model=order.purchase_model,
        package=order.package,
        interfaces=order.requested_interfaces(),
        reason=order.reason,
        startup_package=order.startup_package,
        changes_order=order.changes_order,
        adjustments=[(a.kind, a.amount, a.reason) for a in order.quote_adjustments.all()],
        exclude_order=order,
        day=day or timezone.localdate(),
    )


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
    """The pricing core's facts of an order, saved or still in the form (quote_for_form, billing/comparison.py)."""
    existing = frozenset(i.code for i in changes_order.requested_interfaces()) if changes_order else frozenset()
    return pricing.OrderFacts(
        purchase_model=purchase_model,
        system_id=system.pk,
        system_name=system.name,
        reason=reason,
        interfaces=tuple(pricing.InterfaceFacts(i.code, i.name_da, i.name_en) for i in interfaces),
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


def quote_for_order(order: AccessOrder, *, day: datetime.date | None = None) -> tuple[pricing.Quote, PriceList]:
    """The live quote: today's price list, the customer's contract and licences, the order's facts."""
    day = day or timezone.localdate()
    price_list = price_list_on(day)
    contract = contract_facts(order.customer)
    facts = with_licences_serving(order_facts(order, day=day), contract, order.customer_id, exclude_order=order)
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


def quote_for_form(customer: Customer, facts: dict) -> pricing.Quote | None:
    """The quote for an order not saved yet, from the new-order form's current answers."""
    system = facts.get("external_system")
    model = facts.get("purchase_model")
    package = facts.get("package") if model == "package" else None
    interfaces = list(facts.get("interfaces") or []) if model == "single" else []
    if system is None or (model == "package" and package is None) or (model == "single" and not interfaces):
        return None
    if package is not None:
        interfaces = list(package.interfaces.all())
    day = timezone.localdate()
    order_facts_ = facts_of(
        customer_id=customer.pk,
        system=system,
        replaces=facts.get("replaces_order") if facts.get("reason") == "new" else None,
        purchase_model=model,
        package=package,
        interfaces=interfaces,
        reason=facts.get("reason") or "new",
        startup_package=facts.get("startup_package"),
        changes_order=facts.get("changes_order") if facts.get("reason") == "change" else None,
        day=day,
    )
    try:
        contract = contract_facts(customer)
        order_facts_ = with_licences_serving(order_facts_, contract, customer.pk)
        return _quote(order_facts_, contract, price_facts(price_list_on(day)))
    except Refusal:
        return None


def frozen_quote(order: AccessOrder) -> pricing.Quote | None:
    addendum = order.addenda.exclude(quote__isnull=True).order_by("-version").first()
    return pricing.Quote.from_dict(addendum.quote) if addendum else None


def addendum_quote(addendum: Addendum) -> pricing.Quote | None:
    """The quote frozen in one addendum version, as its document prints it."""
    return pricing.Quote.from_dict(addendum.quote) if addendum.quote else None
