"""Money reads, scoped to the user. Reads only: nothing here calls a service (.importlinter)."""

import datetime

from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import can_see_billing_runs, is_support
from core.errors import NotAllowedNow, NotPermitted, Refusal
from core.prepared import Prepared, starts_with_pattern
from core.security import visible_or_404
from ordering.models import (
    ACCESS_RUNNING_STATES,
    ESTABLISHED_STATES,
    AccessOrder,
    ConsultingRequest,
    Customer,
    Interface,
    State,
)
from ordering.roles import Role
from ordering.selectors import served_customers

from . import pricing
from .errors import BillingError
from .models import BillingRun, Charge, Invoice, RecurringFee, SharedFee, StartupPackage
from .quotes import frozen_quote, quote_for_order


def billing_section(order: AccessOrder, roles: set, *, interfaces: list[Interface] | None = None) -> dict:
    """What the order page shows about money: the quote (live or frozen) and the account manager's tools.

    Read as the page read the order this request: its state, its addenda and requests for help (prefetched by
    the page, else read here), and `interfaces` (quotes.order_facts)."""
    if order.state in (State.DRAFT, State.SUBMITTED):
        try:
            quote, _price_list = quote_for_order(order, interfaces=interfaces)
        except BillingError:  # no price list in force, or a price missing from it
            quote = None
        frozen = False
    else:
        quote, frozen = frozen_quote(order), True
    is_manager = Role.ACCOUNT_MANAGER in roles
    return {
        "quote": quote,
        "quote_frozen": frozen,
        "can_adjust": quote_adjustment_refusal(order, roles) is None,
        "adjustments_pending": list(order.quote_adjustments.all()) if order.state == State.AWAITING_SIGNATURE else [],
        # Also after closure: work done while the access ran may be recorded later; and before establishment
        # once the customer asked KMD for help about the order (services check the date).
        "can_record_consulting": consulting_refusal(order, order.customer, roles, fresh=False) is None,
        # Recorded when an order with the package is activated (billing.services): none for any other order.
        "startup": StartupPackage.objects.filter(order=order).first() if order.startup_package else None,
        # Fees due once that came to this order from one that ended unestablished (billing/pricing.py).
        "moved_fees": _MOVED_FEES.all(order=order.pk),
        "closing_licences": licences_only_this_access_uses(order)
        if is_manager and order.state in ACCESS_RUNNING_STATES
        else [],
        "open_licences": list(
            RecurringFee.objects.filter(
                order=order, kind=RecurringFee.Kind.LICENCE, ends_on__isnull=True
            ).select_related("interface")
        )
        if is_manager and order.state == State.EMERGENCY_CLOSED
        else [],
    }


# Asked on every order page: compiled once per process (core/prepared.py).
_MOVED_FEES = Prepared(
    lambda p: SharedFee.objects.filter(order_id=p.order, moved_from__isnull=False).select_related("charge")
)


# --- What the account manager may do with an order's money: one rule for the page and the service ---------


def quote_adjustment_refusal(order: AccessOrder, roles: set) -> Refusal | None:
    """Why these roles cannot adjust the order's price now, or None (billing.services.quote_adjustment_add)."""
    if Role.ACCOUNT_MANAGER not in roles:
        return NotPermitted(_("Only the customer's account manager can adjust the price."))
    # Before the first addendum, or before a new version of it: an issued version never changes.
    if order.state not in (State.SUBMITTED, State.AWAITING_SIGNATURE):
        return NotAllowedNow(_("The price can only be adjusted before the addendum is issued."))
    return None


def consulting_days(
    order: AccessOrder | None, customer_id: int, *, fresh: bool = True
) -> list[tuple[datetime.date, datetime.date]]:
    """The days consulting can be recorded for: from the first request for help (about this order, or about the
    customer's plans when there is no order) to today, and an established access's lifetime.

    The service's check reads the requests and the order's state afresh. A page that has just read the order
    (`fresh=False`) answers from it and from its requests for help as read (order.consulting_requests)."""
    today = timezone.localdate()
    if fresh or order is None:
        asked = ConsultingRequest.objects.filter(customer_id=customer_id, order=order).order_by("requested_at").first()
    else:
        requests = [r for r in order.consulting_requests.all() if r.customer_id == customer_id]
        asked = min(requests, key=lambda r: r.requested_at, default=None)
    spans = [(asked.requested_on, today)] if asked is not None else []
    if order is not None:
        if fresh:
            order = AccessOrder.objects.get(pk=order.pk)  # the state as it is now, not as the caller read it
        if order.state in ESTABLISHED_STATES and order.activated_on is not None:
            spans.append((order.activated_on, order.closed_on or today))
    return spans


def consulting_refusal(
    order: AccessOrder | None, customer: Customer, roles: set, *, fresh: bool = True
) -> Refusal | None:
    """Why these roles cannot record consulting against the order (or the customer, with no order) now, or None
    (billing.services.consulting_record): the account manager, once the customer asked or access is established.
    `fresh` as consulting_days says."""
    if Role.ACCOUNT_MANAGER not in roles:
        return NotPermitted(_("Only the customer's account manager can record consulting hours."))
    if consulting_days(order, customer.pk, fresh=fresh):
        return None
    if order is None:
        return NotAllowedNow(
            _("The customer has not asked KMD for help yet, so there is nothing to record consulting against.")
        )
    return NotAllowedNow(
        _(
            "Consulting can be recorded once the customer has asked KMD for help about this order, or once access "
            "is established; this order is “%(state)s”."
        )
        % {"state": order.get_state_display()}
    )


def consulting_request_section(request: ConsultingRequest, roles: set) -> dict:
    """The consulting recorded against what the request was about (its order, or the customer without an
    order) since the day it was asked, and whether this user may record more."""
    recorded = Charge.objects.filter(
        customer_id=request.customer_id,
        order_id=request.order_id,
        kind=Charge.Kind.CONSULTING,
        booked_on__gte=request.requested_on,
    ).order_by("booked_on", "pk")
    refusal = consulting_refusal(request.order, request.customer, roles)
    return {"consulting": list(recorded), "can_record_consulting": refusal is None}


def licences_only_this_access_uses(order: AccessOrder) -> list[RecurringFee]:
    """The customer's running licences for this order's interfaces that no other live access uses."""
    interfaces = [i.pk for i in order.requested_interfaces()]
    return _ONLY_THIS_ACCESS.all(customer=order.customer_id, order=order.pk, interfaces=interfaces)


# One query however many accesses the customer has: "used elsewhere" is asked of the database per licence. A live
# access's interfaces are its own (a package order's frozen when its addendum was issued, PACKAGE_READ_LIVE_STATES),
# never its package as the catalogue holds it today. Asked twice on a running access's page (the money section and
# the close form), so compiled once per process (core/prepared.py).
_ONLY_THIS_ACCESS = Prepared(
    lambda p: (
        RecurringFee.objects.filter(
            customer_id=p.customer,
            kind=RecurringFee.Kind.LICENCE,
            ends_on__isnull=True,
            interface__id__in=p.list("interfaces"),  # the target id: a FK lookup would prepare each value
        )
        .exclude(
            Exists(
                AccessOrder.objects.access_agreed()
                .filter(customer_id=p.customer)
                .exclude(pk=p.order)
                .filter(interfaces=OuterRef("interface_id"))
            )
        )
        .select_related("interface")
    )
)


def customers_billed_for(user) -> QuerySet[Customer]:
    return _billed_customers(user, is_support(user))


def _billed_customers(user, support: bool) -> QuerySet[Customer]:
    # `user` may be a prepared query's slot for the user's id (core/prepared.py).
    if support:
        return Customer.objects.all()
    return Customer.objects.filter(served_customers(user, path=""))


def invoices_visible_to(user) -> QuerySet[Invoice]:
    if not user.is_authenticated:
        return Invoice.objects.none()
    qs = Invoice.objects.select_related("customer")
    if is_support(user):
        return qs
    return qs.filter(served_customers(user))


def invoice_for_user(user, pk: int) -> Invoice:
    return visible_or_404(invoices_visible_to(user), pk, kind="invoice")


def licences_visible_to(user) -> QuerySet[RecurringFee]:
    return RecurringFee.objects.filter(
        kind=RecurringFee.Kind.LICENCE, ends_on__isnull=True, customer__in=customers_billed_for(user)
    ).select_related("customer", "interface", "order")


def systems_covered_after_fee(user) -> list[tuple[SharedFee, str]]:
    """The systems a contract covers for an interface since their additional-system fee was paid, with the
    interface's name: recorded once (SharedFee), so no later order pays the fee again. Asked on every licence list:
    two queries compiled once per process (core/prepared.py)."""
    pattern = starts_with_pattern(pricing.ADDITIONAL_SYSTEM_KEYS)
    fees = _COVERED_SYSTEMS.all(shape=(is_support(user),), user=user.pk, pattern=pattern)
    coded = [(fee, fee.key.rsplit(":", 1)[-1]) for fee in fees]  # the key ends with the interface's code
    codes = sorted({code for _fee, code in coded})
    names = {i.code: i.name for i in _INTERFACES_CODED.all(codes=codes)} if codes else {}
    return [(fee, names.get(code, fee.key)) for fee, code in coded]


_COVERED_SYSTEMS = Prepared(
    lambda p, support: (
        SharedFee.objects.filter(
            key__starts_with_pattern=p.pattern,
            charge__isnull=False,
            customer__in=_billed_customers(p.user, support),
        )
        .select_related("customer", "order__external_system", "charge")
        .order_by("customer__name", "pk")
    )
)
_INTERFACES_CODED = Prepared(lambda p: Interface.objects.filter(code__in=p.list("codes")))


def runs_visible_to(user) -> QuerySet[BillingRun]:
    if can_see_billing_runs(user):
        return BillingRun.objects.all()
    return BillingRun.objects.none()
