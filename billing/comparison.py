"""Single purchase beside the system's integration packages, for the interfaces the orderer chose.

The source: an integration package "er ofte mere fordelagtig for kunderne … For mange kunder vil det
desuden være en mere økonomisk løsning end køb af enkelte standardsnitflader", and "bør I kontakte
jeres faste salgs- og kundeansvarlige … for at drøfte mulighederne og vælge den mest fordelagtige model
for jer". The new-order form prices only the current choice; this prices every way to buy the same
access, with the same pure core (billing/pricing.py) and the same facts the form's quote uses
(billing/quotes.py), so the columns can never disagree with the quote the addendum will show.

Reads only. The price list, the contract and the customer's licences are read once however many
packages the system has, and once for the form's quote and this together (form_quotes); each option is then one
call of the pure core.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import prefetch_related_objects

from ordering.models import AccessOrder, Customer, IntegrationPackage, Interface

from . import pricing, quotes
from .errors import Refusal

MONTHS_A_YEAR = 12


@dataclass(frozen=True)
class Option:
    """One way to buy the access: single purchase (package None) or one integration package."""

    quote: pricing.Quote
    package: IntegrationPackage | None = None
    chosen: bool = False  # the purchase model (and package) the form has now
    # For a package: the chosen interfaces it does not give, and the interfaces it gives besides them.
    lacks: tuple[Interface, ...] = ()
    extra: tuple[Interface, ...] = ()

    @property
    def one_time(self) -> Decimal:
        return self.quote.one_time.excl_vat

    @property
    def monthly(self) -> Decimal:
        return self.quote.monthly.excl_vat

    @property
    def yearly(self) -> Decimal:
        """Each full year after the first: twelve monthly fees."""
        return self.monthly * MONTHS_A_YEAR

    @property
    def first_year(self) -> Decimal:
        """The first twelve months from establishment: the one-time fees and twelve monthly fees."""
        return self.one_time + self.yearly


@dataclass(frozen=True)
class Comparison:
    price_list: str
    options: tuple[Option, ...]  # single purchase first, then the packages by name

    @property
    def single(self) -> Option:
        return self.options[0]

    @property
    def packages(self) -> tuple[Option, ...]:
        return self.options[1:]


def form_quotes(customer: Customer, facts: dict) -> tuple[pricing.Quote | None, Comparison | None]:
    """The live preview's quote for the form's answers and the comparison beside it, from one set of reads."""
    reads = quotes.FormReads(customer, facts)
    return quotes.quote_for_form(customer, facts, reads), quote_comparison(customer, facts, reads)


def quote_comparison(customer: Customer, facts: dict, reads: quotes.FormReads | None = None) -> Comparison | None:
    """Single purchase and each priced package of the chosen system, for the chosen interfaces, excl. VAT.

    None when there is nothing to compare: no system or no interfaces chosen yet, no package for the
    system in the price list in force, or no quote can be made (no price list, a price missing).
    The chosen interfaces are those ticked for a single purchase, or the chosen package's for a package.
    The startup package and the account manager's adjustments are left out: they are the same whichever
    way the access is bought, or are agreed afterwards.
    """
    system = facts.get("external_system")
    if system is None:
        return None
    packages = list(system.packages.all())  # as the order form read them with the system, if it did
    if not packages:
        return None
    prefetch_related_objects(packages, "interfaces")
    is_package = facts.get("purchase_model") == AccessOrder.PurchaseModel.PACKAGE
    chosen_package = facts.get("package") if is_package else None
    chosen_package = next((p for p in packages if chosen_package and p.pk == chosen_package.pk), None)
    chosen = list(chosen_package.interfaces.all()) if chosen_package else list(facts.get("interfaces") or [])
    if not chosen:
        return None
    reads = reads or quotes.FormReads(customer, facts)
    try:
        prices, contract = reads.prices, reads.contract
    except Refusal:
        return None
    # The facts quote_for_form builds for a single purchase of these interfaces, without the startup package;
    # tests/billing/test_comparison.py holds every option to quote_for_form's quote for the same answers.
    single_facts = dataclasses.replace(reads.single, interfaces=quotes.interface_facts(chosen))
    try:
        single = Option(
            quote=pricing.quote(
                dataclasses.replace(single_facts, licensed_for_system=reads.licensed_for_system), contract, prices
            ),
            chosen=not is_package,
        )
    except pricing.MissingPrice:
        return None
    options = [single]
    chosen_ids = {i.pk for i in chosen}
    for package in packages:
        if package.code not in prices.packages:
            continue  # not sold now: the price list in force has no price for it
        offers = list(package.interfaces.all())
        package_facts = dataclasses.replace(
            single_facts,
            purchase_model=AccessOrder.PurchaseModel.PACKAGE,
            package_code=package.code,
            package_name=package.name_da,
            interfaces=quotes.interface_facts(offers),
        )
        offered_ids = {i.pk for i in offers}
        options.append(
            Option(
                quote=pricing.quote(package_facts, contract, prices),
                package=package,
                chosen=chosen_package is not None and chosen_package.pk == package.pk,
                lacks=tuple(i for i in chosen if i.pk not in offered_ids),
                extra=tuple(i for i in offers if i.pk not in chosen_ids),
            )
        )
    if len(options) == 1:
        return None
    return Comparison(price_list=prices.name, options=tuple(options))
