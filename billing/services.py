"""Money writes: frozen quotes, charges and fees on activation and closure, consulting, billing runs."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.errors import Refusal
from core.transactions import retry_on_conflict
from ordering.audit import audit_record
from ordering.models import (
    ESTABLISHED_STATES,
    LIVE_ACCESS_STATES,
    AccessOrder,
    Addendum,
    AuditKind,
    Customer,
    State,
    order_reference,
)
from ordering.roles import Role, order_roles
from ordering.validators import typed_text_problem

from . import pricing
from .models import (
    BillingRun,
    Charge,
    Invoice,
    InvoiceLine,
    PriceList,
    QuoteAdjustment,
    RecurringFee,
    StartupPackage,
)
from .pricing import money


class BillingError(Refusal):
    """A money write refused; `message` says why, for the user."""


class NotPermitted(BillingError):
    """The actor's role does not allow this (views record it in the security log)."""


# --- Quotes -----------------------------------------------------------------------------------


def price_list_on(day: datetime.date) -> PriceList:
    price_list = (
        PriceList.objects.filter(effective_from__lte=day)
        .prefetch_related("interface_prices__interface", "package_prices__package")
        .order_by("-effective_from")
        .first()
    )
    if price_list is None:
        raise BillingError(_("No price list is in force on %(day)s. A catalogue admin must add one.") % {"day": day})
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
        included={
            line.interface.code: pricing.ContractLine(line.coverage, frozenset(s.pk for s in line.named_systems.all()))
            for line in lines
        },
    )


def _active_licence_codes(customer_id: int, day: datetime.date, exclude_order: AccessOrder | None = None) -> set[str]:
    fees = RecurringFee.objects.filter(
        customer_id=customer_id, kind=RecurringFee.Kind.LICENCE, starts_on__lte=day
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gt=day))
    if exclude_order is not None:
        fees = fees.exclude(order=exclude_order)
    return set(fees.values_list("interface__code", flat=True))


def order_facts(order: AccessOrder, *, day: datetime.date | None = None) -> pricing.OrderFacts:
    return _facts(
        customer_id=order.customer_id,
        system=order.external_system,
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


def _facts(
    *,
    customer_id,
    system,
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
        licensed=frozenset(_active_licence_codes(customer_id, day, exclude_order=exclude_order)),
        existing_access=existing,
        adjustments=tuple(adjustments),
    )


def quote_for_order(order: AccessOrder, *, day: datetime.date | None = None) -> tuple[pricing.Quote, PriceList]:
    """The live quote: today's price list, the customer's contract and licences, the order's facts."""
    day = day or timezone.localdate()
    price_list = price_list_on(day)
    return pricing.quote(
        order_facts(order, day=day), contract_facts(order.customer), price_facts(price_list)
    ), price_list


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
    order_facts_ = _facts(
        customer_id=customer.pk,
        system=system,
        purchase_model=model,
        package=package,
        interfaces=interfaces,
        reason=facts.get("reason") or "new",
        startup_package=facts.get("startup_package"),
        changes_order=facts.get("changes_order") if facts.get("reason") == "change" else None,
        day=day,
    )
    try:
        return pricing.quote(order_facts_, contract_facts(customer), price_facts(price_list_on(day)))
    except (BillingError, KeyError):
        return None


def freeze_quote(addendum: Addendum) -> None:
    """Called when an addendum version is issued: the quote it shows is fixed from then on."""
    quote, price_list = quote_for_order(addendum.order)
    addendum.quote = quote.to_dict()
    addendum.price_list = price_list
    addendum.save(update_fields=["quote", "price_list"])


def frozen_quote(order: AccessOrder) -> pricing.Quote | None:
    addendum = order.addenda.exclude(quote__isnull=True).order_by("-version").first()
    return pricing.Quote.from_dict(addendum.quote) if addendum else None


@retry_on_conflict
def quote_adjustment_add(*, order: AccessOrder, actor, kind: str, amount: Decimal, reason: str) -> QuoteAdjustment:
    from ordering.services import lock_order

    reason = (reason or "").strip()
    if not reason:
        raise BillingError(_("Give the reason for the adjustment; the customer sees it in the quote."))
    problem = typed_text_problem(reason, max_length=QuoteAdjustment._meta.get_field("reason").max_length)
    if problem:
        raise BillingError(problem)
    if kind not in QuoteAdjustment.Kind.values:
        raise BillingError(_("Choose whether the adjustment is one-time or monthly."))
    limit = QuoteAdjustment.AMOUNT_LIMIT
    if not _number_within(amount, -limit, limit, Decimal("0.01")):
        raise BillingError(
            _("Write the amount in kroner and øre, from %(min)s to %(max)s.")
            % {"min": pricing.kroner(-limit), "max": pricing.kroner(limit)}
        )
    with transaction.atomic():
        locked = lock_order(order)
        if Role.ACCOUNT_MANAGER not in order_roles(actor, locked):
            raise NotPermitted(_("Only the customer's account manager can adjust the price."))
        # Before the first addendum, or before a new version of it: an issued version never changes.
        if locked.state not in (State.SUBMITTED, State.AWAITING_SIGNATURE):
            raise BillingError(_("The price can only be adjusted before the addendum is issued."))
        adjustment = QuoteAdjustment.objects.create(
            order=locked, kind=kind, amount=money(amount), reason=reason, created_by=actor
        )
        audit_record(
            order=locked,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            kind=AuditKind.QUOTE_ADJUSTED,
            comment=f"{adjustment.get_kind_display()}: {adjustment.amount} kr. – {reason}",
        )
    return adjustment


def price_list_record_change(*, price_list: PriceList, actor, created: bool, changes: list[str]) -> None:
    """Audit a catalogue admin's change to a price list (the admin saves it; call in its transaction)."""
    what = "oprettet" if created else "ændret"
    detail = f": {', '.join(changes)}" if changes else ""
    audit_record(
        kind=AuditKind.PRICE_LIST_CHANGED,
        subject=price_list,
        actor=actor,
        role=Role.CATALOGUE_ADMIN,
        comment=f"{price_list.name} (fra {price_list.effective_from:%Y-%m-%d}) {what}{detail}"[:2000],
    )


# --- Lifecycle hooks (called inside the order's transition) ------------------------------------


def billing_on_activate(order: AccessOrder, actor) -> None:
    """Book the one-time charges of the accepted quote, and start licences and package fees."""
    accepted = order.addenda.filter(status=Addendum.Status.ACCEPTED).order_by("-version").first()
    if accepted is None or accepted.quote is None:
        return
    quote = pricing.Quote.from_dict(accepted.quote)
    day = order.activated_on
    charges = [
        Charge(
            customer_id=order.customer_id,
            order=order,
            price_list=accepted.price_list,
            kind=Charge.Kind.ONE_TIME,
            rule=line.rule,
            description_da=f"{order.reference}: {line.da}",
            description_en=f"{order.reference}: {line.en}",
            amount=line.amount,
            booked_on=day,
            recorded_by=actor,
        )
        for line in quote.lines_of(pricing.ONE_TIME)
        if line.amount != 0
    ]
    Charge.objects.bulk_create(charges)
    already = _active_licence_codes(order.customer_id, day)
    interfaces = {i.code: i for i in order.requested_interfaces()}
    fees = []
    for line in quote.lines_of(pricing.MONTHLY):
        if line.rule == "licence_monthly":
            if line.interface in already:
                continue  # bought meanwhile for another system: one licence serves them all
            kind, extra = RecurringFee.Kind.LICENCE, {"interface": interfaces[line.interface]}
        elif line.rule == "package_monthly":
            kind, extra = RecurringFee.Kind.PACKAGE, {"package_id": order.package_id}
        else:
            kind, extra = RecurringFee.Kind.ADJUSTMENT, {}
        fees.append(
            RecurringFee(
                customer_id=order.customer_id,
                order=order,
                kind=kind,
                description_da=line.da,
                description_en=line.en,
                monthly_fee=line.amount,
                starts_on=day,
                **extra,
            )
        )
    RecurringFee.objects.bulk_create(fees)
    if any(line.rule == "startup_package" for line in quote.lines):
        StartupPackage.objects.create(order=order, test_access_until=_add_months(day, 6))


def licences_only_this_access_uses(order: AccessOrder) -> list[RecurringFee]:
    """The customer's running licences for this order's interfaces that no other live access uses."""
    # One query however many accesses the customer has: "used elsewhere" is asked of the database per
    # licence, the way AccessOrder.requested_interfaces reads an order (a package's interfaces, or its own).
    others = AccessOrder.objects.filter(customer_id=order.customer_id, state__in=LIVE_ACCESS_STATES).exclude(
        pk=order.pk
    )
    interface = OuterRef("interface_id")
    return list(
        RecurringFee.objects.filter(
            customer_id=order.customer_id,
            kind=RecurringFee.Kind.LICENCE,
            ends_on__isnull=True,
            interface__in=[i.pk for i in order.requested_interfaces()],
        )
        .exclude(Exists(others.filter(purchase_model=AccessOrder.PurchaseModel.PACKAGE, package__interfaces=interface)))
        .exclude(Exists(others.filter(purchase_model=AccessOrder.PurchaseModel.SINGLE, interfaces=interface)))
        .select_related("interface")
    )


def billing_on_close(order: AccessOrder, actor, *, on: datetime.date, end_licence_ids: list[int] | None) -> None:
    """Stop the order's package and adjustment fees on the closing date; end the chosen licences.

    `end_licence_ids=None` means the default: end every licence no other access uses.
    """
    _stop_order_fees(order, actor, on)
    offered = {fee.pk: fee for fee in licences_only_this_access_uses(order)}
    chosen = offered.keys() if end_licence_ids is None else [pk for pk in end_licence_ids if pk in offered]
    RecurringFee.objects.filter(pk__in=list(chosen)).update(ends_on=on, ended_by=actor)


def billing_on_emergency_close(order: AccessOrder, actor, *, on: datetime.date) -> None:
    """Access ends at once, so its package fee does; licences run until the account manager ends them."""
    _stop_order_fees(order, actor, on)


def _stop_order_fees(order: AccessOrder, actor, on: datetime.date) -> None:
    fees = RecurringFee.objects.filter(
        order=order, kind__in=[RecurringFee.Kind.PACKAGE, RecurringFee.Kind.ADJUSTMENT], ends_on__isnull=True
    )
    # A fee that has not started by the closing date ends the day it starts: nothing is billed.
    for fee in fees:
        fee.ends_on = max(on, fee.starts_on)
        fee.ended_by = actor
    RecurringFee.objects.bulk_update(fees, ["ends_on", "ended_by"])


@retry_on_conflict
def licence_end(*, fee: RecurringFee, actor, on: datetime.date | None = None) -> RecurringFee:
    from ordering.services import lock_order

    on = on or timezone.localdate()
    with transaction.atomic():
        lock_order(fee.order)  # customer, order, then the fee: the lock order of ordering/services.py
        fees = RecurringFee.objects.select_for_update(no_key=True, of=("self",)).select_related("order__customer")
        fee = fees.get(pk=fee.pk)
        if Role.ACCOUNT_MANAGER not in order_roles(actor, fee.order):
            raise NotPermitted(_("Only the customer's account manager can end a licence."))
        if fee.kind != RecurringFee.Kind.LICENCE or fee.ends_on is not None:
            raise BillingError(_("This licence has already ended."))
        if on < fee.starts_on:
            raise BillingError(_("A licence cannot end before it started (%(day)s).") % {"day": fee.starts_on})
        fee.ends_on, fee.ended_by = on, actor
        fee.save(update_fields=["ends_on", "ended_by"])
        audit_record(
            kind=AuditKind.LICENCE_ENDED,
            order=fee.order,
            subject=fee,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            comment=f"{fee.description_da} · {on:%Y-%m-%d}",
        )
    return fee


# --- Consulting and the startup package --------------------------------------------------------


def _is_step(value: Decimal, step: Decimal) -> bool:
    return value % step == 0


def _number_within(value, low: Decimal, high: Decimal, step: Decimal) -> bool:
    """A finite Decimal (or int) from `low` to `high` in whole steps; never a float or NaN."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return False
    value = Decimal(value)
    return value.is_finite() and low <= value <= high and _is_step(value, step)


def _check_established_on(order: AccessOrder, on: datetime.date | None = None) -> None:
    """Consulting and startup-package use are billed on an access that was established, for a day of its
    lifetime: from activation to closure, or to today while it runs."""
    order = AccessOrder.objects.get(pk=order.pk)  # the state as it is now, not as the caller read it
    if order.state not in ESTABLISHED_STATES or order.activated_on is None:
        raise BillingError(
            _(
                "Consulting and use of the startup package can only be recorded once access is established; "
                "this order is “%(state)s”."
            )
            % {"state": order.get_state_display()}
        )
    last = order.closed_on or timezone.localdate()
    if on is not None and not order.activated_on <= on <= last:
        raise BillingError(
            _("Choose a date from %(first)s to %(last)s: the days the access ran.")
            % {
                "first": formats.date_format(order.activated_on, "SHORT_DATE_FORMAT"),
                "last": formats.date_format(last, "SHORT_DATE_FORMAT"),
            }
        )


@retry_on_conflict
def consulting_record(*, order: AccessOrder, actor, on: datetime.date, hours: Decimal, description: str) -> Charge:
    if Role.ACCOUNT_MANAGER not in order_roles(actor, order):
        raise NotPermitted(_("Only the customer's account manager can record consulting hours."))
    if not _number_within(hours, Charge.HOURS_MIN, Charge.HOURS_MAX, Charge.HOURS_STEP):
        raise BillingError(
            _("Enter the hours worked in quarter hours, from %(min)s to %(max)s, e.g. 2,5.")
            % {"min": formats.number_format(Charge.HOURS_MIN), "max": formats.number_format(Charge.HOURS_MAX)}
        )
    description = (description or "").strip()
    if not description:
        raise BillingError(_("Describe the consulting work; the customer sees it on the invoice."))
    problem = typed_text_problem(description, max_length=Charge.CONSULTING_DESCRIPTION_MAX_LENGTH)
    if problem:
        raise BillingError(problem)
    _check_established_on(order, on)
    price_list = price_list_on(on)
    rate = price_list.consulting_hourly_rate
    with transaction.atomic():
        charge = Charge.objects.create(
            customer_id=order.customer_id,
            order=order,
            price_list=price_list,
            kind=Charge.Kind.CONSULTING,
            rule="consulting",
            description_da=f"{order.reference}: Konsulentbistand, {hours} timer à {pricing.kroner(rate)}: {description}",
            description_en=f"{order.reference}: Consulting, {hours} hours at {rate} DKK: {description}",
            hours=hours,
            hourly_rate=rate,
            amount=money(hours * rate),
            booked_on=on,
            recorded_by=actor,
        )
        audit_record(
            kind=AuditKind.CONSULTING_RECORDED,
            order=order,
            subject=charge,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            comment=f"{on:%Y-%m-%d} · {hours} t · {charge.amount} kr. – {description}",
        )
    return charge


@retry_on_conflict
def startup_usage_record(
    *, order: AccessOrder, actor, meetings: int = 0, qa_hours: Decimal = Decimal("0")
) -> StartupPackage:
    if Role.ACCOUNT_MANAGER not in order_roles(actor, order):
        raise NotPermitted(_("Only the customer's account manager can record use of the startup package."))
    meetings_ok = _number_within(meetings, Decimal(0), Decimal(StartupPackage.MEETINGS_PER_ENTRY_MAX), Decimal(1))
    hours_ok = _number_within(qa_hours, Decimal(0), StartupPackage.QA_HOURS_PER_ENTRY_MAX, StartupPackage.QA_HOURS_STEP)
    if not (meetings_ok and hours_ok):
        raise BillingError(
            _("Enter from 0 to %(meetings)s meetings and from 0 to %(hours)s hours of Q&A in quarter hours at a time.")
            % {
                "meetings": StartupPackage.MEETINGS_PER_ENTRY_MAX,
                "hours": formats.number_format(StartupPackage.QA_HOURS_PER_ENTRY_MAX),
            }
        )
    _check_established_on(order)
    with transaction.atomic():
        usage = StartupPackage.objects.select_for_update(no_key=True).filter(order=order).first()
        if usage is None:
            raise BillingError(_("This order has no startup package."))
        if (
            usage.meetings_used + meetings > StartupPackage.MEETINGS_USED_MAX
            or usage.qa_hours_used + qa_hours > StartupPackage.QA_HOURS_USED_MAX
        ):
            raise BillingError(
                _("That is far more than the startup package includes; record the extra help as consulting instead.")
            )
        usage.meetings_used += meetings
        usage.qa_hours_used += qa_hours
        usage.save(update_fields=["meetings_used", "qa_hours_used"])
        audit_record(
            kind=AuditKind.STARTUP_USAGE_RECORDED,
            order=order,
            subject=usage,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            comment=f"+{meetings} møder, +{qa_hours} t spørgsmål/svar "
            f"(i alt {usage.meetings_used} møder, {usage.qa_hours_used} t)",
        )
    return usage


# --- The monthly billing run -------------------------------------------------------------------


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    last = (_first_of_next(datetime.date(year, month, 1)) - datetime.timedelta(days=1)).day
    return datetime.date(year, month, min(day.day, last))


def _first_of_next(day: datetime.date) -> datetime.date:
    return (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)


def active_days(fee_start: datetime.date, fee_end: datetime.date | None, month: datetime.date) -> int:
    """Days of `month` on which the fee runs: from the start date up to, not including, the end date."""
    month_end = _first_of_next(month)
    start = max(fee_start, month)
    end = min(fee_end or month_end, month_end)
    return max((end - start).days, 0)


def prorated(monthly_fee: Decimal, days: int, month: datetime.date) -> Decimal:
    days_in_month = (_first_of_next(month) - month).days
    return money(monthly_fee * days / days_in_month)


_MONTHS_DA = [
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
]


@retry_on_conflict
def billing_run(*, period: datetime.date, force: bool = False) -> BillingRun:
    """Invoice every customer for one month. Running it again for the same month bills nothing twice.

    Each customer gets one final invoice per month with: monthly fees pro rata for the days they ran
    in that month (and any earlier month not billed yet), one-time charges and consulting dated up
    to the month's end that are not billed yet, and credit lines for months billed before a fee was
    ended retroactively. A customer already invoiced for the month is left alone.

    A month is billed only once it has ended (in Copenhagen): its invoices are final, and whatever
    was still to happen in it would be missing from them. `force` bills it anyway, for tests and the
    demo only.
    """
    start = period.replace(day=1)
    end = _first_of_next(start)
    if end > timezone.localdate() and not force:
        raise BillingError(
            _("The month %(month)s has not ended yet, so it cannot be billed. Run the billing on %(day)s or later.")
            % {"month": f"{start:%Y-%m}", "day": end.isoformat()}
        )
    now = timezone.now()
    with transaction.atomic():
        run, created = BillingRun.objects.select_for_update(no_key=True).get_or_create(period=start)
        if not created:
            run.runs += 1
            run.last_run_at = now
            run.save(update_fields=["runs", "last_run_at"])
        invoiced = set(Invoice.objects.filter(period=start).values_list("customer_id", flat=True))
        vat_rate = price_list_on(end - datetime.timedelta(days=1)).vat_rate

        lines_by_customer: dict[int, list[InvoiceLine]] = defaultdict(list)
        # Each fee carries how far it has been invoiced (billed_until), so the run reads only the fees
        # with days left to bill before the month's end, and walks only their months not billed yet:
        # the work follows the month's lines, not every line and month since each fee started.
        fees = list(
            RecurringFee.objects.annotate(billed_from=Coalesce("billed_until", "starts_on"))
            .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=F("billed_from")), billed_from__lt=end)
            .exclude(customer_id__in=invoiced)
            # Only the order's number and requisition are needed: no order objects (thousands of them).
            .annotate(requisition=F("order__requisition_number"))
        )
        for fee in fees:
            # A month is billed whole or up to the fee's end: billing resumes with the month after it.
            month = (
                fee.starts_on.replace(day=1)
                if fee.billed_until is None
                else _first_of_next(fee.billed_until - datetime.timedelta(days=1))
            )
            while month < end:
                days = active_days(fee.starts_on, fee.ends_on, month)
                if days:
                    lines_by_customer[fee.customer_id].append(_recurring_line(fee, month, days))
                month = _first_of_next(month)

        charges = Charge.objects.filter(booked_on__lt=end, invoice_line__isnull=True).exclude(customer_id__in=invoiced)
        for charge in charges.annotate(requisition=Coalesce(F("order__requisition_number"), Value(""))):
            lines_by_customer[charge.customer_id].append(
                InvoiceLine(
                    source_key=f"charge:{charge.pk}",
                    kind=InvoiceLine.Kind.CONSULTING
                    if charge.kind == Charge.Kind.CONSULTING
                    else InvoiceLine.Kind.ONE_TIME,
                    order_id=charge.order_id,
                    requisition_number=charge.requisition,
                    charge=charge,
                    description_da=f"{charge.description_da} ({charge.booked_on:%d.%m.%Y})",
                    description_en=f"{charge.description_en} ({charge.booked_on:%Y-%m-%d})",
                    amount=charge.amount,
                )
            )

        corrections, settled = _corrections(start, invoiced)
        for line in corrections:
            lines_by_customer[line.recurring_fee.customer_id].append(line)

        customers = Customer.objects.in_bulk(list(lines_by_customer))
        invoices = []
        for customer_id, lines in sorted(lines_by_customer.items()):
            customer = customers[customer_id]
            excl = sum((line.amount for line in lines), pricing.ZERO)
            vat = money(excl * vat_rate)
            invoices.append(
                Invoice(
                    run=run,
                    customer=customer,
                    period=start,
                    number=f"{start:%Y%m}-{customer.pk:05d}",
                    customer_name=customer.name,
                    cvr=customer.cvr,
                    ean=customer.ean,
                    reference_person=customer.invoice_reference_person,
                    total_excl_vat=excl,
                    vat=vat,
                    total_incl_vat=excl + vat,
                )
            )
        Invoice.objects.bulk_create(invoices)
        by_customer = {invoice.customer_id: invoice for invoice in invoices}
        all_lines = []
        for customer_id, lines in lines_by_customer.items():
            for line in lines:
                line.invoice = by_customer[customer_id]
                all_lines.append(line)
        InvoiceLine.objects.bulk_create(all_lines)
        # The fees read here are now invoiced to the month's end, or to their end date when they end
        # before it (as they were read: a fee ended meanwhile stays ahead of its end, to be credited);
        # a fee just credited for the days after its end is invoiced exactly to its end.
        ending = [fee.pk for fee in fees if fee.ends_on is not None and fee.ends_on < end] + settled
        RecurringFee.objects.filter(pk__in=[fee.pk for fee in fees] + settled).update(
            billed_until=Case(When(pk__in=ending, then=F("ends_on")), default=Value(end))
        )
    return run


def _recurring_line(fee: RecurringFee, month: datetime.date, days: int) -> InvoiceLine:
    days_in_month = (_first_of_next(month) - month).days
    month_da = f"{_MONTHS_DA[month.month - 1]} {month.year}"
    return InvoiceLine(
        source_key=f"fee:{fee.pk}:{month:%Y-%m}",
        kind=InvoiceLine.Kind.RECURRING,
        order_id=fee.order_id,
        requisition_number=fee.requisition,
        recurring_fee=fee,
        service_month=month,
        days=days,
        days_in_month=days_in_month,
        description_da=f"{order_reference(fee.order_id)}: {fee.description_da} – {month_da}, {days}/{days_in_month} dage",
        description_en=f"{order_reference(fee.order_id)}: {fee.description_en} – {month:%B %Y}, {days}/{days_in_month} days",
        amount=prorated(fee.monthly_fee, days, month),
    )


def _corrections(period: datetime.date, invoiced: set[int]) -> tuple[list[InvoiceLine], list[int]]:
    """Credit what earlier invoices billed for days after a fee was ended retroactively.

    Returns the credit lines and the fees now settled: every line they billed before `period` was
    checked, so the run marks them invoiced up to their end and never reads their lines again.
    """
    billed = (
        InvoiceLine.objects.filter(
            kind=InvoiceLine.Kind.RECURRING,
            service_month__lt=period,
            recurring_fee__ends_on__isnull=False,
            recurring_fee__ends_on__lt=period,
            # Invoiced beyond its end: only a fee ended after days past its end were billed.
            recurring_fee__billed_until__gt=F("recurring_fee__ends_on"),
            correction__isnull=True,
        )
        # Only months from the one the fee ended in can have been billed for too many days.
        .annotate(end_month=TruncMonth("recurring_fee__ends_on"))
        .filter(service_month__gte=F("end_month"))
        .exclude(recurring_fee__customer_id__in=invoiced)
        .select_related("recurring_fee")
        .annotate(requisition=F("recurring_fee__order__requisition_number"))
    )
    lines, settled = [], set()
    for line in billed:
        fee = line.recurring_fee
        if fee.billed_until <= period:  # nothing billed from `period` on, which a later run would check
            settled.add(fee.pk)
        days = active_days(fee.starts_on, fee.ends_on, line.service_month)
        difference = prorated(fee.monthly_fee, days, line.service_month) - line.amount
        if difference == 0:
            continue
        lines.append(
            InvoiceLine(
                source_key=f"correction:{line.pk}",
                kind=InvoiceLine.Kind.CORRECTION,
                order_id=fee.order_id,
                requisition_number=line.requisition,
                recurring_fee=fee,
                corrects=line,
                service_month=line.service_month,
                days=days,
                days_in_month=line.days_in_month,
                description_da=f"Kreditering: {line.description_da} (adgangen ophørte {fee.ends_on:%d.%m.%Y})",
                description_en=f"Credit: {line.description_en} (access ended {fee.ends_on:%Y-%m-%d})",
                amount=difference,
            )
        )
    return lines, sorted(settled)
