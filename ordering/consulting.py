"""Asking KMD for help (ConsultingRequest): before an integration project, during it, or after establishment.

The source: "For yderligere assistance kan I anmode om konsulentbistand fra KMD … Vi anbefaler, at I
kontakter KMD for at diskutere disse behov, før projektet påbegyndes", and "Ved individuel integration
anbefales som minimum en opstartspakke samt dialog med KMD". The customer's orderers and signatories ask;
the request waits on the account manager's start page until answered; the hours KMD spends are recorded
as consulting by billing (billing/services.py `consulting_record`) from the day it was asked.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record
from core.errors import Invalid, NotAllowedNow, NotPermitted
from core.prepared import Prepared
from core.security import NotVisible
from core.transactions import retry_on_conflict

from .audit import AuditKind
from .models import FINAL_STATES, AccessOrder, ConsultingRequest, Customer
from .roles import Role, customer_roles
from .selectors import served_customers
from .validators import typed_text_problem

# Who at the customer may ask: the people who order and sign; KMD's own staff answer.
ASKING_ROLES = (Role.ORDERER, Role.SIGNATORY)


def may_ask(user, customer: Customer) -> bool:
    return bool(customer_roles(user, customer.pk) & set(ASKING_ROLES))


def asking_refusal(user, order: AccessOrder) -> str:
    """Why this user cannot ask for help about this order, or "" if they can."""
    if not may_ask(user, order.customer):
        return _("Only the customer's orderers and signatories can ask KMD for help.")
    if order.state in FINAL_STATES:
        return _("This order has ended (“%(state)s”). Ask about the customer's plans instead, without an order.") % {
            "state": order.get_state_display()
        }
    return ""


@retry_on_conflict
def consulting_request_create(
    *, actor, customer: Customer, kind: str, message: str, order: AccessOrder | None = None
) -> ConsultingRequest:
    if order is not None and order.customer_id != customer.pk:
        raise NotVisible("The order is another customer's", kind="order", pk=order.pk)
    if not may_ask(actor, customer):
        raise NotPermitted(_("Only the customer's orderers and signatories can ask KMD for help."))
    errors = {}
    if kind not in ConsultingRequest.Kind.values:
        errors["kind"] = _("Choose the help you want from KMD.")
    message = (message or "").strip()
    problem = typed_text_problem(message, max_length=ConsultingRequest.MESSAGE_MAX_LENGTH, multiline=True)
    if not message:
        errors["message"] = _("Describe what you need help with, so the account manager can prepare.")
    elif problem:
        errors["message"] = problem
    if errors:
        raise Invalid(next(iter(errors.values())), errors=errors)
    with transaction.atomic():
        Customer.objects.select_for_update(no_key=True).only("pk").get(pk=customer.pk)
        if order is not None:
            order = AccessOrder.objects.get(pk=order.pk)  # its state now, not as the page read it
            refusal = asking_refusal(actor, order)
            if refusal:
                raise NotAllowedNow(refusal)
        request = ConsultingRequest.objects.create(
            customer=customer, order=order, kind=kind, message=message, requested_by=actor
        )
        audit_record(
            kind=AuditKind.CONSULTING_REQUESTED,
            subject=request,
            actor=actor,
            role=_asking_role(actor, customer),
            comment=message,
        )
    return request


def _asking_role(actor, customer: Customer) -> Role:
    roles = customer_roles(actor, customer.pk)
    return Role.ORDERER if Role.ORDERER in roles else Role.SIGNATORY


@retry_on_conflict
def consulting_request_answer(*, actor, request: ConsultingRequest, answer: str) -> ConsultingRequest:
    """The account manager answers: what KMD will do, and when. The request leaves the start page."""
    answer = (answer or "").strip()
    problem = typed_text_problem(answer, max_length=ConsultingRequest.MESSAGE_MAX_LENGTH, multiline=True)
    if not answer:
        message = _("Write your answer to the customer: what KMD will do, and when.")
        raise Invalid(message, errors={"answer": message})
    if problem:
        raise Invalid(problem, errors={"answer": problem})
    with transaction.atomic():
        Customer.objects.select_for_update(no_key=True).only("pk").get(pk=request.customer_id)
        locked = ConsultingRequest.objects.select_for_update(no_key=True).select_related("customer").get(pk=request.pk)
        if locked.customer.account_manager_id != actor.pk:
            raise NotPermitted(_("Only the customer's account manager can answer a request for help."))
        if not locked.is_open:
            answered_on = formats.date_format(timezone.localdate(locked.answered_at), "SHORT_DATE_FORMAT")
            raise NotAllowedNow(_("This request was answered already, on %(day)s.") % {"day": answered_on})
        locked.answer, locked.answered_by, locked.answered_at = answer, actor, timezone.now()
        locked.save(update_fields=["answer", "answered_by", "answered_at"])
        audit_record(
            kind=AuditKind.CONSULTING_REQUEST_ANSWERED,
            subject=locked,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            comment=answer[:2000],
        )
    return locked


# --- Reads ------------------------------------------------------------------------------------------


def requests_visible_to(user) -> QuerySet[ConsultingRequest]:
    """The one tenant rule (selectors.served_customers): the customer's people and its account manager."""
    if not user.is_authenticated:
        return ConsultingRequest.objects.none()
    return ConsultingRequest.objects.filter(served_customers(user)).select_related(
        "customer", "order__external_system", "requested_by", "answered_by"
    )


def open_requests_for_account_manager(user) -> QuerySet[ConsultingRequest]:
    """What waits for this account manager: the open requests of their customers, oldest first."""
    return _open_requests(user.pk)


def first_open_requests_for_account_manager(user, n: int) -> list[ConsultingRequest]:
    """The first `n` of open_requests_for_account_manager(user): the start page's, compiled once per process
    (core/prepared.py)."""
    return _FIRST_OPEN_REQUESTS.all(shape=(n,), user=user.pk)


def _open_requests(account_manager) -> QuerySet[ConsultingRequest]:
    return (
        ConsultingRequest.objects.filter(customer__account_manager_id=account_manager, answered_at__isnull=True)
        .select_related("customer", "order__external_system", "requested_by")
        .order_by("requested_at", "pk")
    )


_FIRST_OPEN_REQUESTS = Prepared(lambda p, n: _open_requests(p.user)[:n])


def request_for_user(user, pk: int) -> ConsultingRequest:
    request = requests_visible_to(user).filter(pk=pk).first()
    if request is None:
        raise NotVisible("No such request", kind="consulting_request", pk=pk)
    return request
