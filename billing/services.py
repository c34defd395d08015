"""Money writes: frozen quotes, charges and fees on activation and closure, consulting, billing runs.

Reads live in billing/quotes.py (quotes) and billing/selectors.py. The `billing_on_*` hooks and
`quote_freeze` are how billing reacts to an order's lifecycle: billing/lifecycle.py registers them
with ordering (ordering/lifecycle.py), which calls them inside the transition.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record
from core.transactions import retry_on_conflict
from ordering.models import (
    ABANDONED_STATES,
    ESTABLISHED_STATES,
    AccessOrder,
    Addendum,
    Customer,
    State,
    order_reference,
)
from ordering.roles import Role, order_roles
from ordering.services import lock_order
from ordering.validators import typed_text_problem

from . import pricing
from .audit import BillingAuditKind, BillingRunAuditKind
from .errors import BillingError as BillingError  # the name callers know: any refusal (billing/errors.py)
from .errors import Invalid, NotAllowedNow, NotPermitted
from .models import (
    BillingRun,
    Charge,
    Invoice,
    InvoiceLine,
    PriceList,
    QuoteAdjustment,
    RecurringFee,
    SharedFee,
    StartupPackage,
)
from .pricing import money
from .quotes import active_licence_codes, contract_facts, price_list_on, quote_for_order, set_up_by
from .selectors import consulting_days, consulting_refusal, licences_only_this_access_uses, quote_adjustment_refusal


def _require_transaction() -> None:
    """The lifecycle hooks write only as part of the order's transition: in its transaction, under its
    locks, recorded by its audit event. Called on their own they would write money unaudited."""
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError(
            "Billing's lifecycle hooks run inside the order's transition (ordering/lifecycle.py)."
        )


def quote_freeze(*, addendum: Addendum) -> None:
    """An addendum version is issued: the quote it shows is fixed from then on (in the issuing transition).

    The fees due once that it prices are this order's to pay from now on (billing/pricing.py, "Fees due
    once"); any it held that the new version no longer prices are owed by nobody. The transition holds the customer's
    lock, so two orders issued at once take turns here: the second sees the first's fees.
    """
    _require_transaction()
    order = addendum.order
    quote, price_list = quote_for_order(order)
    addendum.quote = quote.to_dict()
    addendum.price_list = price_list
    addendum.save(update_fields=["quote", "price_list"])
    paying = {line.key for line in quote.lines if line.key and line.rule not in pricing.WITH_ORDER_RULES}
    held = set(_pending_fees(order.customer_id).filter(order=order).values_list("key", flat=True))
    SharedFee.objects.bulk_create(
        SharedFee(customer_id=order.customer_id, key=key, order=order) for key in sorted(paying - held)
    )
    if held - paying:
        # The order was only revised, and no longer buys what those fees pay for (the contract covers it now, say):
        # nobody owes them. They do not move: the orders naming this one pay only should it end unestablished.
        _pending_fees(order.customer_id).filter(order=order, key__in=held - paying).delete()


def _pending_fees(customer_id: int):
    return SharedFee.objects.filter(customer_id=customer_id, charge__isnull=True)


@retry_on_conflict
def quote_adjustment_add(*, order: AccessOrder, actor, kind: str, amount: Decimal, reason: str) -> QuoteAdjustment:
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(_("Give the reason for the adjustment; the customer sees it in the quote."))
    problem = typed_text_problem(reason, max_length=QuoteAdjustment._meta.get_field("reason").max_length)
    if problem:
        raise Invalid(problem)
    if kind not in QuoteAdjustment.Kind.values:
        raise Invalid(_("Choose whether the adjustment is one-time or monthly."))
    limit = QuoteAdjustment.AMOUNT_LIMIT
    if not _number_within(amount, -limit, limit, Decimal("0.01")):
        raise Invalid(
            _("Write the amount in kroner and øre, from %(min)s to %(max)s.")
            % {"min": pricing.kroner(-limit), "max": pricing.kroner(limit)}
        )
    with transaction.atomic():
        locked = lock_order(order)
        refusal = quote_adjustment_refusal(locked, order_roles(actor, locked))
        if refusal is not None:
            raise refusal
        adjustment = QuoteAdjustment.objects.create(
            order=locked, kind=kind, amount=money(amount), reason=reason, created_by=actor
        )
        audit_record(
            order=locked,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            kind=BillingAuditKind.QUOTE_ADJUSTED,
            # Kind and amount as codes, read in the reader's language ("Engangsbeløb: -500,00 kr."); the reason typed.
            params={"adjustment_kind": adjustment.kind, "adjustment_kr": str(adjustment.amount)},
            comment=reason,
        )
    return adjustment


def price_list_record_change(*, price_list: PriceList, actor, created: bool, changes: list[str]) -> None:
    """Audit a catalogue admin's change to a price list (the admin saves it; call in its transaction)."""
    what = "oprettet" if created else "ændret"
    detail = f": {', '.join(changes)}" if changes else ""
    audit_record(
        kind=BillingAuditKind.PRICE_LIST_CHANGED,
        subject=price_list,
        actor=actor,
        role=Role.CATALOGUE_ADMIN,
        comment=f"{price_list.name} (fra {price_list.effective_from:%d.%m.%Y}) {what}{detail}"[:2000],
    )


# --- Lifecycle hooks (called inside the order's transition) ------------------------------------


def billing_on_activate(*, order: AccessOrder, actor) -> None:
    """Book the one-time charges of the accepted quote, and start licences and package fees.

    A fee due once is booked only by the order it is pending with (billing/pricing.py, "Fees due once"):
    the one whose addendum priced it, or the one it moved to. A line whose fee another order pays books
    nothing; a licence's monthly fee starts with the first access established through it, whichever.
    """
    _require_transaction()
    accepted = order.addenda.filter(status=Addendum.Status.ACCEPTED).order_by("-version").first()
    if accepted is None or accepted.quote is None:
        return
    quote = pricing.Quote.from_dict(accepted.quote)
    day = order.activated_on
    pending = {fee.key: fee for fee in _pending_fees(order.customer_id).select_for_update(no_key=True)}
    charges, paid = [], []
    for line in quote.lines_of(pricing.ONE_TIME):
        key = line.key or _key_of_earlier_line(line, order)
        fee = pending.get(key) if key else None
        if fee is not None and line.shared_fee is not None and fee.pk != line.shared_fee:
            fee = None  # a later purchase of the same thing, not the fee this line promised to take over
        if fee is not None:
            if fee.order_id != order.pk:
                continue  # another order of the customer pays it
            amount = line.if_moved if line.rule in pricing.WITH_ORDER_RULES else line.amount
            charge = _charge(order, accepted.price_list, line, amount, day, actor)
            paid.append((fee, charge))
        elif line.rule in pricing.WITH_ORDER_RULES or line.amount == 0:
            continue  # paid with another order already, or nothing to pay
        elif line.key or (key and _paid_already(key, order, day)):
            continue  # paid once already: never twice
        else:
            # A line that pays for nothing shared (an adjustment), or one frozen before fees due once were
            # tracked whose fee nobody has paid yet: booked as it was priced.
            charges.append(_charge(order, accepted.price_list, line, line.amount, day, actor))
    Charge.objects.bulk_create(charges + [charge for _, charge in paid])
    _settle(paid, actor, Role.ACCOUNT_MANAGER)
    already = active_licence_codes(order.customer_id, day)
    interfaces = {i.code: i for i in order.requested_interfaces()}
    fees = []
    for line in quote.lines_of(pricing.MONTHLY):
        monthly_fee = line.amount
        if line.rule in pricing.LICENCE_MONTHLY_RULES:
            if line.interface in already:
                continue  # bought meanwhile for another system: the customer holds one licence per interface
            kind, extra = RecurringFee.Kind.LICENCE, {"interface": interfaces[line.interface]}
            if line.rule in pricing.WITH_ORDER_RULES:
                if not SharedFee.objects.filter(pk=line.shared_fee).exists():
                    continue  # the order buying the licence no longer does (revised): no licence to start
                monthly_fee = line.if_moved  # this access is the first through the licence: its fee starts
        elif line.rule == pricing.Rule.PACKAGE_MONTHLY:
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
                monthly_fee=monthly_fee,
                starts_on=day,
                **extra,
            )
        )
    RecurringFee.objects.bulk_create(fees)
    if any(line.rule == pricing.Rule.STARTUP_PACKAGE for line in quote.lines):
        # Its test access (ordering.models.TestAccess) is opened by the activation itself.
        StartupPackage.objects.create(order=order)


# The rules whose fee is due once, as a quote frozen before fees due once were tracked wrote them (no key).
_EARLIER_LINE_KEYS = {
    pricing.Rule.LICENCE_START: lambda line, order: pricing.licence_key(line.interface),
    pricing.Rule.SETUP_FEE: lambda line, order: pricing.setup_key(order.external_system_id),
    pricing.Rule.SETUP_FEE_REPLACEMENT: lambda line, order: pricing.setup_key(order.external_system_id),
    pricing.Rule.ADDITIONAL_SYSTEM: lambda line, order: pricing.additional_system_key(
        order.external_system_id, line.interface
    ),
    pricing.Rule.LICENCE_ADDITIONAL_SYSTEM: lambda line, order: pricing.additional_system_key(
        order.external_system_id, line.interface
    ),
}


def _key_of_earlier_line(line: pricing.QuoteLine, order: AccessOrder) -> str:
    """What a line frozen before keys existed pays for (billing/migrations/0009 gave its fee to the first order
    that priced it). A licence under tender terms that tie it to named systems is the system's own: no key."""
    make = _EARLIER_LINE_KEYS.get(line.rule)
    if make is None:
        return ""
    if line.rule == pricing.Rule.LICENCE_START and not contract_facts(order.customer).licences_serve_all_systems:
        return ""
    return make(line, order)


def _paid_already(key: str, order: AccessOrder, day: datetime.date) -> bool:
    """Whether the fee of an earlier line's key was paid by another order: a licence that runs, a system set up
    by another live access, an additional system already covered."""
    kind = key.split(":", 1)[0]
    if kind == "licence":
        return key.split(":", 1)[1] in active_licence_codes(order.customer_id, day)
    if kind == "setup":
        return bool(set_up_by(order.customer_id, order.external_system, exclude_order=order))
    return SharedFee.objects.filter(customer_id=order.customer_id, key=key, charge__isnull=False).exists()


def _charge(order: AccessOrder, price_list, line: pricing.QuoteLine, amount, day, actor) -> Charge:
    return Charge(
        customer_id=order.customer_id,
        order=order,
        price_list=price_list,
        kind=Charge.Kind.ONE_TIME,
        rule=line.rule,
        description_da=f"{order.reference}: {line.da}",
        description_en=f"{order.reference}: {line.en}",
        amount=amount,
        booked_on=day,
        recorded_by=actor,
    )


def _settle(paid: list[tuple[SharedFee, Charge]], actor, role: Role) -> None:
    """Fees due once are paid by these charges (saved): never again. An additional system is covered from now on."""
    for fee, charge in paid:
        fee.charge = charge
        fee.save(update_fields=["charge"])
        if fee.key.startswith("additional:"):
            audit_record(
                kind=BillingAuditKind.ADDITIONAL_SYSTEM_COVERED,
                order=charge.order,
                subject=fee,
                actor=actor,
                role=role,
                comment=f"{charge.order.external_system.name} · {_interface_of(fee.key)}",
                params={"covered_fee_kr": str(charge.amount)},
            )


def _interface_of(key: str) -> str:
    return key.rsplit(":", 1)[-1]


def _takes_over(line: pricing.QuoteLine, fee: SharedFee, order: AccessOrder) -> bool:
    """Whether this line of another order's standing addendum promised to pay `fee` should its order end: a line
    naming exactly this fee, or one frozen before fees due once were tracked that priced the same thing itself
    (its addendum says it pays it) and has not been booked."""
    if line.rule in pricing.WITH_ORDER_RULES:
        return line.shared_fee == fee.pk
    if line.key or line.amount == 0:
        return False
    return _key_of_earlier_line(line, order) == fee.key and not order.charges.filter(rule=line.rule).exists()


def billing_on_decline(*, order: AccessOrder, actor) -> None:
    """The signatory declined the addendum: the fees due once it would have paid move to the next order."""
    _require_transaction()
    _release_shared_fees(order, actor, Role.SIGNATORY)


def _release_shared_fees(order: AccessOrder, actor, role: Role) -> None:
    """This order ended before its access was established and will not pay the fees due once it holds: each
    moves to the order whose standing addendum promised to take over exactly that fee (the earliest issued),
    once, and is booked at once if that order's access is already established. With none, nobody owes it."""
    held = list(_pending_fees(order.customer_id).filter(order=order).select_for_update(no_key=True))
    if not held:
        return
    standing = (
        Addendum.objects.filter(
            order__customer_id=order.customer_id, status__in=[Addendum.Status.ISSUED, Addendum.Status.ACCEPTED]
        )
        .exclude(order=order)
        .exclude(order__state__in=ABANDONED_STATES)
        .exclude(order__state=State.EMERGENCY_CLOSED, order__activated_on__isnull=True)
        .select_related("order__external_system", "price_list")
        .order_by("issued_at", "pk")
    )
    lines = [
        (addendum, line)
        for addendum in standing
        for line in pricing.Quote.from_dict(addendum.quote or {"price_list": "", "vat_rate": "0", "lines": []}).lines
        if line.kind == pricing.ONE_TIME
    ]
    today = timezone.localdate()
    for fee in held:
        successor = next(((a, line) for a, line in lines if _takes_over(line, fee, a.order)), None)
        if successor is None:
            fee.delete()  # nobody needs it any more; the next order to need it pays it
            continue
        addendum, line = successor
        fee.moved_from, fee.order = order, addendum.order
        fee.save(update_fields=["moved_from", "order"])
        audit_record(
            kind=BillingAuditKind.SHARED_FEE_MOVED,
            subject=fee,
            actor=actor,
            role=role,
            comment=f"{line.da} ({order.reference} → {addendum.order.reference})",
        )
        if addendum.order.activated_on is not None:
            amount = line.if_moved if line.rule in pricing.WITH_ORDER_RULES else line.amount
            charge = _charge(addendum.order, addendum.price_list, line, amount, today, actor)
            charge.save()
            _settle([(fee, charge)], actor, role)


def billing_on_close(*, order: AccessOrder, actor, on: datetime.date, end_licence_ids: list[int] | None = None) -> None:
    """Stop the order's package and adjustment fees on the closing date; end the chosen licences.

    `end_licence_ids=None` means the default: end every licence no other access uses.
    """
    _require_transaction()
    _stop_order_fees(order, actor, on)
    offered = {fee.pk: fee for fee in licences_only_this_access_uses(order)}
    chosen = offered.keys() if end_licence_ids is None else [pk for pk in end_licence_ids if pk in offered]
    RecurringFee.objects.filter(pk__in=list(chosen)).update(ends_on=on, ended_by=actor)


def billing_on_emergency_close(*, order: AccessOrder, actor, on: datetime.date) -> None:
    """Access ends at once, so its package fee does; licences run until the account manager ends them.

    Closed before its access was established, the order pays none of its fees due once: they move on.
    """
    _require_transaction()
    _stop_order_fees(order, actor, on)
    if order.activated_on is None:
        _release_shared_fees(order, actor, Role.SUPPORT)


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
    on = on or timezone.localdate()
    with transaction.atomic():
        lock_order(fee.order)  # customer, order, then the fee: the lock order of ordering/services/__init__.py
        fees = RecurringFee.objects.select_for_update(no_key=True, of=("self",)).select_related("order__customer")
        fee = fees.get(pk=fee.pk)
        if Role.ACCOUNT_MANAGER not in order_roles(actor, fee.order):
            raise NotPermitted(_("Only the customer's account manager can end a licence."))
        if fee.kind != RecurringFee.Kind.LICENCE or fee.ends_on is not None:
            raise NotAllowedNow(_("This licence has already ended."))
        if on < fee.starts_on:
            raise Invalid(_("A licence cannot end before it started (%(day)s).") % {"day": fee.starts_on})
        fee.ends_on, fee.ended_by = on, actor
        fee.save(update_fields=["ends_on", "ended_by"])
        audit_record(
            kind=BillingAuditKind.LICENCE_ENDED,
            subject=fee,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            comment=f"{fee.description_da} · {on:%d.%m.%Y}",
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


def _check_established(order: AccessOrder) -> None:
    """Use of the startup package is recorded on an access that was established (its test access runs)."""
    order = AccessOrder.objects.get(pk=order.pk)  # the state as it is now, not as the caller read it
    if order.state not in ESTABLISHED_STATES or order.activated_on is None:
        raise NotAllowedNow(
            _("Use of the startup package can only be recorded once access is established; this order is “%(state)s”.")
            % {"state": order.get_state_display()}
        )


@retry_on_conflict
def consulting_record(
    *,
    actor,
    on: datetime.date,
    hours: Decimal,
    description: str,
    order: AccessOrder | None = None,
    customer: Customer | None = None,
) -> Charge:
    """Hours of KMD's help, at the senior consultant's rate of the price list in force on the day they were worked
    ("Al bistand udover dette er konsulentbistand, som afregnes til gældende takst for seniorkonsulent").

    Against an order, or against the customer when the help was about its plans before any order.
    """
    customer = order.customer if order is not None else customer
    customer_id = customer.pk
    roles = {Role.ACCOUNT_MANAGER} if customer.account_manager_id == actor.pk else set()
    if Role.ACCOUNT_MANAGER not in roles:
        raise NotPermitted(_("Only the customer's account manager can record consulting hours."))
    if not _number_within(hours, Charge.HOURS_MIN, Charge.HOURS_MAX, Charge.HOURS_STEP):
        raise Invalid(
            _("Enter the hours worked in quarter hours, from %(min)s to %(max)s, e.g. 2,5.")
            % {"min": formats.number_format(Charge.HOURS_MIN), "max": formats.number_format(Charge.HOURS_MAX)}
        )
    description = (description or "").strip()
    if not description:
        raise Invalid(_("Describe the consulting work; the customer sees it on the invoice."))
    problem = typed_text_problem(description, max_length=Charge.CONSULTING_DESCRIPTION_MAX_LENGTH)
    if problem:
        raise Invalid(problem)
    refusal = consulting_refusal(order, customer, roles)
    if refusal is not None:
        raise refusal
    spans = consulting_days(order, customer_id)
    if not any(first <= on <= last for first, last in spans):
        first, last = min(f for f, _ in spans), max(la for _, la in spans)
        raise Invalid(
            _("Choose a date from %(first)s to %(last)s: from when the help was asked for or the access ran.")
            % {
                "first": formats.date_format(first, "SHORT_DATE_FORMAT"),
                "last": formats.date_format(last, "SHORT_DATE_FORMAT"),
            }
        )
    price_list = price_list_on(on)
    rate = price_list.consulting_hourly_rate
    prefix = f"{order.reference}: " if order is not None else ""
    with transaction.atomic():
        charge = Charge.objects.create(
            customer_id=customer_id,
            order=order,
            price_list=price_list,
            kind=Charge.Kind.CONSULTING,
            rule="consulting",
            description_da=f"{prefix}Konsulentbistand, {hours} timer à {pricing.kroner(rate)}: {description}",
            description_en=f"{prefix}Consulting, {hours} hours at {rate} DKK: {description}",
            hours=hours,
            hourly_rate=rate,
            amount=money(hours * rate),
            booked_on=on,
            recorded_by=actor,
        )
        audit_record(
            kind=BillingAuditKind.CONSULTING_RECORDED,
            subject=charge,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            comment=description,
            params={"consulting_on": on, "consulting_hours_number": str(hours), "consulting_kr": str(charge.amount)},
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
        raise Invalid(
            _("Enter from 0 to %(meetings)s meetings and from 0 to %(hours)s hours of Q&A in quarter hours at a time.")
            % {
                "meetings": StartupPackage.MEETINGS_PER_ENTRY_MAX,
                "hours": formats.number_format(StartupPackage.QA_HOURS_PER_ENTRY_MAX),
            }
        )
    _check_established(order)
    with transaction.atomic():
        usage = StartupPackage.objects.select_for_update(no_key=True).filter(order=order).first()
        if usage is None:
            raise NotAllowedNow(_("This order has no startup package."))
        if (
            usage.meetings_used + meetings > StartupPackage.MEETINGS_USED_MAX
            or usage.qa_hours_used + qa_hours > StartupPackage.QA_HOURS_USED_MAX
        ):
            raise Invalid(
                _("That is far more than the startup package includes; record the extra help as consulting instead.")
            )
        usage.meetings_used += meetings
        usage.qa_hours_used += qa_hours
        usage.save(update_fields=["meetings_used", "qa_hours_used"])
        audit_record(
            kind=BillingAuditKind.STARTUP_USAGE_RECORDED,
            order=order,
            subject=usage,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            comment=f"+{meetings} møder, +{qa_hours} t spørgsmål/svar "
            f"(i alt {usage.meetings_used} møder, {usage.qa_hours_used} t)",
        )
    return usage


# --- The monthly billing run -------------------------------------------------------------------


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


def billing_run_refusal(period: datetime.date, *, force: bool = False) -> NotAllowedNow | None:
    """Why the month starting `period` cannot be billed now, or None: the run's own rule, which the billing page
    also asks before it offers the month."""
    start = period.replace(day=1)
    end = _first_of_next(start)
    if end > timezone.localdate() and not force:
        return NotAllowedNow(
            _("The month %(month)s has not ended yet, so it cannot be billed. Run the billing on %(day)s or later.")
            % {
                "month": formats.date_format(start, "YEAR_MONTH_FORMAT"),
                "day": formats.date_format(end, "SHORT_DATE_FORMAT"),
            }
        )
    return None


@dataclass
class RunLines:
    """What a run of one month bills: the lines of each customer not invoiced for it yet, and the fees they bill."""

    start: datetime.date
    end: datetime.date
    vat_rate: Decimal
    lines_by_customer: dict[int, list[InvoiceLine]]
    fees: list[RecurringFee]
    settled: list[int]


def _lines_to_bill(start: datetime.date) -> RunLines:
    """The lines a run of the month starting `start` makes, read and built in memory: nothing is written.

    The run (billing_run) writes them; the billing page's preview (billing_preview) shows them. One
    calculation for both, so what the page says a month will bill is what the run bills.
    """
    end = _first_of_next(start)
    invoiced = set(Invoice.objects.filter(period=start).values_list("customer_id", flat=True))
    vat_rate = price_list_on(end - datetime.timedelta(days=1)).vat_rate
    lines_by_customer: dict[int, list[InvoiceLine]] = defaultdict(list)
    fees = _fees_to_bill(end, invoiced)
    for fee in fees:
        lines_by_customer[fee.customer_id].extend(_fee_lines(fee, end))
    for charge in _charges_to_bill(end, invoiced):
        lines_by_customer[charge.customer_id].append(_charge_line(charge))
    corrections, settled = _corrections(start, invoiced)
    for line in corrections:
        lines_by_customer[line.recurring_fee.customer_id].append(line)
    return RunLines(start, end, vat_rate, dict(lines_by_customer), fees, settled)


@retry_on_conflict
def billing_run(*, period: datetime.date, force: bool = False, actor=None) -> BillingRun:
    """Invoice every customer for one month. Running it again for the same month bills nothing twice.

    Each customer gets one final invoice per month with: monthly fees pro rata for the days they ran
    in that month (and any earlier month not billed yet), one-time charges and consulting dated up
    to the month's end that are not billed yet, and credit lines for months billed before a fee was
    ended retroactively. A customer already invoiced for the month is left alone.

    A month is billed only once it has ended (in Copenhagen): its invoices are final, and whatever
    was still to happen in it would be missing from them. `force` bills it anyway, for tests and the
    demo only. A run started by a person (`actor`, from the billing page) is audited in its transaction;
    the monthly task and the command run it as a job.
    """
    start = period.replace(day=1)
    refusal = billing_run_refusal(start, force=force)
    if refusal is not None:
        raise refusal
    with transaction.atomic():
        run = _run_for(start)
        bill = _lines_to_bill(start)
        invoices = _write_invoices(run, start, bill.vat_rate, bill.lines_by_customer)
        # The fees read here are now invoiced to the month's end, or to their end date when they end
        # before it (as they were read: a fee ended meanwhile stays ahead of its end, to be credited);
        # a fee just credited for the days after its end is invoiced exactly to its end.
        fees, settled, end = bill.fees, bill.settled, bill.end
        ending = [fee.pk for fee in fees if fee.ends_on is not None and fee.ends_on < end] + settled
        RecurringFee.objects.filter(pk__in=[fee.pk for fee in fees] + settled).update(
            billed_until=Case(When(pk__in=ending, then=F("ends_on")), default=Value(end))
        )
        if actor is not None:
            audit_record(
                kind=BillingRunAuditKind.BILLING_RUN_STARTED,
                subject=run,
                actor=actor,
                role=Role.SUPPORT if actor.is_support else Role.ACCOUNT_MANAGER,
                # 0 invoices is said too: a second run of a month bills nothing twice, and the trail shows it.
                params={"billed_month_on": start, "invoices_made": str(len(invoices))},
            )
    return run


@dataclass(frozen=True)
class PreviewInvoice:
    """One customer's invoice as the month's run would make it now (unsaved), with its lines."""

    invoice: Invoice
    lines: list[InvoiceLine]


def billing_preview(*, period: datetime.date, customers=None) -> list[PreviewInvoice]:
    """What the run of the month starting `period` would bill if it ran now, per customer: the run's own lines and
    totals (_lines_to_bill, _invoice_for), built in memory and never saved. `customers` (a queryset) narrows it to
    the customers the reader may see; the run itself bills them all.
    """
    start = period.replace(day=1)
    bill = _lines_to_bill(start)
    lines_by_customer = bill.lines_by_customer
    if customers is not None:
        allowed = set(customers.filter(pk__in=list(lines_by_customer)).values_list("pk", flat=True))
        lines_by_customer = {pk: lines for pk, lines in lines_by_customer.items() if pk in allowed}
    found = Customer.objects.in_bulk(list(lines_by_customer))
    preview = [
        PreviewInvoice(_invoice_for(None, start, found[pk], bill.vat_rate, lines), lines)
        for pk, lines in lines_by_customer.items()
    ]
    return sorted(preview, key=lambda p: (p.invoice.customer_name, p.invoice.customer_id))


def _run_for(start: datetime.date) -> BillingRun:
    """The month's run, locked: a second run of the same month waits for the first, then counts itself."""
    run, created = BillingRun.objects.select_for_update(no_key=True).get_or_create(period=start)
    if not created:
        run.runs += 1
        run.last_run_at = timezone.now()
        run.save(update_fields=["runs", "last_run_at"])
    return run


def _fees_to_bill(end: datetime.date, invoiced: set[int]) -> list[RecurringFee]:
    """The fees with days left to bill before `end`, of customers not invoiced for the month yet.

    Each fee carries how far it has been invoiced (billed_until), so the run reads only these and walks only
    their months not billed yet: the work follows the month's lines, not every line and month since each fee
    started.
    """
    return list(
        RecurringFee.objects.annotate(billed_from=Coalesce("billed_until", "starts_on"))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gt=F("billed_from")), billed_from__lt=end)
        .exclude(customer_id__in=invoiced)
        # Only the order's number and requisition are needed: no order objects (thousands of them).
        .annotate(requisition=F("order__requisition_number"))
    )


def _fee_lines(fee: RecurringFee, end: datetime.date) -> list[InvoiceLine]:
    """A line for each month not billed yet before `end`, pro rata for the days the fee ran in it."""
    # A month is billed whole or up to the fee's end: billing resumes with the month after it.
    month = (
        fee.starts_on.replace(day=1)
        if fee.billed_until is None
        else _first_of_next(fee.billed_until - datetime.timedelta(days=1))
    )
    lines = []
    while month < end:
        days = active_days(fee.starts_on, fee.ends_on, month)
        if days:
            lines.append(_recurring_line(fee, month, days))
        month = _first_of_next(month)
    return lines


def _charges_to_bill(end: datetime.date, invoiced: set[int]):
    charges = Charge.objects.filter(booked_on__lt=end, invoice_line__isnull=True).exclude(customer_id__in=invoiced)
    return charges.annotate(requisition=Coalesce(F("order__requisition_number"), Value("")))


def _charge_line(charge: Charge) -> InvoiceLine:
    return InvoiceLine(
        source_key=f"charge:{charge.pk}",
        kind=InvoiceLine.Kind.CONSULTING if charge.kind == Charge.Kind.CONSULTING else InvoiceLine.Kind.ONE_TIME,
        order_id=charge.order_id,
        requisition_number=charge.requisition,
        charge=charge,
        description_da=f"{charge.description_da} ({charge.booked_on:%d.%m.%Y})",
        description_en=f"{charge.description_en} ({charge.booked_on:%d/%m/%Y})",  # en-GB, as the pages
        amount=charge.amount,
    )


def _invoice_for(run: BillingRun | None, start: datetime.date, customer: Customer, vat_rate, lines) -> Invoice:
    """A customer's invoice for the month (not saved): totals with VAT at the month's rate, dated today, due after
    the payment terms in force today (settings.INVOICE_PAYMENT_TERMS_DAYS), which it keeps."""
    excl = sum((line.amount for line in lines), pricing.ZERO)
    vat = money(excl * vat_rate)
    issued_on = timezone.localdate()
    terms = settings.INVOICE_PAYMENT_TERMS_DAYS
    return Invoice(
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
        issued_on=issued_on,
        payment_terms_days=terms,
        due_on=issued_on + datetime.timedelta(days=terms),
    )


def _write_invoices(run: BillingRun, start: datetime.date, vat_rate, lines_by_customer: dict) -> list[Invoice]:
    """One final invoice per customer with lines, then its lines."""
    customers = Customer.objects.in_bulk(list(lines_by_customer))
    invoices = [
        _invoice_for(run, start, customers[customer_id], vat_rate, lines)
        for customer_id, lines in sorted(lines_by_customer.items())
    ]
    Invoice.objects.bulk_create(invoices)
    by_customer = {invoice.customer_id: invoice for invoice in invoices}
    all_lines = []
    for customer_id, lines in lines_by_customer.items():
        for line in lines:
            line.invoice = by_customer[customer_id]
            all_lines.append(line)
    InvoiceLine.objects.bulk_create(all_lines)
    return invoices


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
                description_en=f"Credit: {line.description_en} (access ended {fee.ends_on:%d/%m/%Y})",
                amount=difference,
            )
        )
    return lines, sorted(settled)
