"""Money reads, scoped to the user."""

from django.db.models import QuerySet
from django.http import Http404

from config.security import NotVisible
from ordering.models import ESTABLISHED_STATES, AccessOrder, Customer, State
from ordering.roles import Role
from ordering.selectors import served_customers

from . import services
from .models import BillingRun, Invoice, RecurringFee, StartupPackage


def billing_section(order: AccessOrder, roles: set) -> dict:
    """What the order page shows about money: the quote (live or frozen) and the account manager's tools."""
    if order.state in (State.DRAFT, State.SUBMITTED):
        try:
            quote, _price_list = services.quote_for_order(order)
        except (services.BillingError, KeyError):
            quote = None
        frozen = False
    else:
        quote, frozen = services.frozen_quote(order), True
    is_manager = Role.ACCOUNT_MANAGER in roles
    return {
        "quote": quote,
        "quote_frozen": frozen,
        "can_adjust": is_manager and order.state in (State.SUBMITTED, State.AWAITING_SIGNATURE),
        "adjustments_pending": list(order.quote_adjustments.all()) if order.state == State.AWAITING_SIGNATURE else [],
        # Also after closure: work done while the access ran may be recorded later (services check the date).
        "can_record_consulting": is_manager and order.state in ESTABLISHED_STATES and order.activated_on is not None,
        "startup": StartupPackage.objects.filter(order=order).first(),
        "closing_licences": services.licences_only_this_access_uses(order)
        if is_manager and order.state in (State.ACTIVE, State.CLOSURE_REQUESTED)
        else [],
        "open_licences": list(
            RecurringFee.objects.filter(
                order=order, kind=RecurringFee.Kind.LICENCE, ends_on__isnull=True
            ).select_related("interface")
        )
        if is_manager and order.state == State.EMERGENCY_CLOSED
        else [],
    }


def customers_billed_for(user) -> QuerySet[Customer]:
    if user.is_support:
        return Customer.objects.all()
    return Customer.objects.filter(served_customers(user, path=""))


def invoices_visible_to(user) -> QuerySet[Invoice]:
    if not user.is_authenticated:
        return Invoice.objects.none()
    qs = Invoice.objects.select_related("customer")
    if user.is_support:
        return qs
    return qs.filter(served_customers(user))


def invoice_for_user(user, pk: int) -> Invoice:
    try:
        return invoices_visible_to(user).get(pk=pk)
    except Invoice.DoesNotExist:
        if Invoice.objects.filter(pk=pk).exists():
            raise NotVisible("No such invoice", kind="invoice", pk=pk) from None
        raise Http404("No such invoice") from None


def licences_visible_to(user) -> QuerySet[RecurringFee]:
    return RecurringFee.objects.filter(
        kind=RecurringFee.Kind.LICENCE, ends_on__isnull=True, customer__in=customers_billed_for(user)
    ).select_related("customer", "interface", "order")


def runs_visible_to(user) -> QuerySet[BillingRun]:
    if user.is_support or user.managed_customers.exists():
        return BillingRun.objects.all()
    return BillingRun.objects.none()
