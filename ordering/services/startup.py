"""The startup package's test access (TestAccess in ordering/models.py): the daily sweep that tells and
closes, the account manager's extension, and the production order made from it."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.trail import audit_record
from core.errors import Invalid, NotAllowedNow, NotPermitted
from core.transactions import retry_on_conflict

from .. import audit as ordering_audit
from ..audit import AuditKind
from ..models import (
    ABANDONED_STATES,
    ACCESS_RUNNING_STATES,
    AccessOrder,
    TestAccess,
)
from ..roles import Role, customer_roles, order_roles
from .closure import _end_access
from .drafts import _check_order_facts, _save_draft
from .running import _audit_and_notify, _require_text, _short_date, lock_order


def test_access_sweep(*, today: datetime.date | None = None) -> dict[str, int]:
    """Daily (beat): close the test accesses whose end date has come, and tell orderers and account manager
    30 and 7 days before the end (each once). Safe to run again the same day."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=max(TestAccess.NOTICE_DAYS))
    due = TestAccess.objects.filter(
        expired_on__isnull=True, order__state__in=ACCESS_RUNNING_STATES, ends_on__lte=horizon
    ).values_list("pk", flat=True)
    done = {"expired": 0, "notified": 0}
    for pk in list(due):
        outcome = _test_access_tick(test_access_id=pk, today=today)
        if outcome:
            done[outcome] += 1
    return done


@retry_on_conflict
def _test_access_tick(*, test_access_id: int, today: datetime.date) -> str:
    with transaction.atomic():
        access = TestAccess.objects.select_related("order").get(pk=test_access_id)
        order = lock_order(access.order)
        access = TestAccess.objects.select_for_update(no_key=True).get(pk=test_access_id)
        access.order = order
        if access.expired_on or order.state not in ACCESS_RUNNING_STATES:
            return ""
        if today >= access.ends_on:
            return _test_access_expire(access)
        days_left = (access.ends_on - today).days
        reached = [days for days in TestAccess.NOTICE_DAYS if days_left <= days]
        if not reached or (access.notified_days is not None and access.notified_days <= min(reached)):
            return ""
        access.notified_days = min(reached)
        access.save(update_fields=["notified_days"])
        _audit_and_notify(
            order=order,
            job=ordering_audit.JOB_TEST_ACCESS_SWEEP,
            kind=AuditKind.TEST_ACCESS_EXPIRING,
            params={ordering_audit.TEST_ACCESS_ENDS_ON: access.ends_on, "days_left": days_left},
        )
        return "notified"


def _test_access_expire(access: TestAccess) -> str:
    """On its end date the order closes as any closure does (billing stops); its own audit kind says why."""
    access.expired_on = access.ends_on
    access.save(update_fields=["expired_on"])
    _end_access(
        access.order,
        None,
        job=ordering_audit.JOB_TEST_ACCESS_SWEEP,
        role="",
        on=access.ends_on,
        kind=AuditKind.TEST_ACCESS_EXPIRED,
        params={ordering_audit.TEST_ACCESS_ENDED_ON: access.ends_on},
    )
    return "expired"


@retry_on_conflict
def test_access_extend(*, order: AccessOrder, actor, until: datetime.date, reason: str) -> TestAccess:
    """The account manager moves a running test access's end date later, with a reason the customer sees."""
    reason = _require_text(reason, _("Give the reason for extending the test access; the customer sees it."))
    with transaction.atomic():
        locked = lock_order(order)
        if Role.ACCOUNT_MANAGER not in order_roles(actor, locked):
            raise NotPermitted(_("Only the customer's account manager can extend a test access."))
        access = TestAccess.objects.select_for_update(no_key=True).filter(order=locked).first()
        if access is None:
            raise NotAllowedNow(_("This order has no test access."))
        access.order = locked
        if access.status != TestAccess.Status.ACTIVE:
            raise NotAllowedNow(_("Only a running test access can be extended; order a new one instead."))
        if until <= access.ends_on or until <= timezone.localdate():
            message = _("Choose an end date after the current one, %(date)s.") % {"date": _short_date(access.ends_on)}
            raise Invalid(message, errors={"until": message})
        previous = access.ends_on
        access.ends_on, access.extended_by, access.extended_at = until, actor, timezone.now()
        access.extension_reason = reason
        access.notified_days = None  # the notices are given again before the new end date
        access.save(update_fields=["ends_on", "extended_by", "extended_at", "extension_reason", "notified_days"])
        audit_record(
            order=locked,
            actor=actor,
            role=Role.ACCOUNT_MANAGER,
            kind=AuditKind.TEST_ACCESS_EXTENDED,
            comment=reason,
            params={ordering_audit.EXTENDED_FROM_ON: previous, "extended_to_on": until},
        )
    return access


# Their names begin with "test_": not tests, for pytest's sake when a test module imports them.
test_access_sweep.__test__ = False


test_access_extend.__test__ = False


def production_order_offered(order: AccessOrder) -> bool:
    """A running or expired test access offers "Order production access" until one is ordered from it."""
    access = TestAccess.objects.filter(order=order).first()
    if access is None:
        return False
    access.order = order
    if access.status not in (TestAccess.Status.ACTIVE, TestAccess.Status.EXPIRED):
        return False
    return not order.production_orders.exclude(state__in=ABANDONED_STATES).exists()


@retry_on_conflict
def order_create_from_test_access(*, test_order: AccessOrder, actor) -> AccessOrder:
    """Order production access: a production draft with the test access's system, purchase and
    interfaces, linked to it. The orderer checks it, adds the production certificate and submits."""
    if Role.ORDERER not in customer_roles(actor, test_order.customer_id):
        raise NotPermitted(_("Only an orderer at the customer can order production access."))
    facts = {
        "external_system": test_order.external_system,
        "purchase_model": test_order.purchase_model,
        "package": test_order.package,
        # A package order's own interfaces are the set its addendum froze: the new order takes the package.
        "interfaces": list(test_order.interfaces.all()) if test_order.package_id is None else [],
        "environment": AccessOrder.Environment.PRODUCTION,
        "reason": AccessOrder.Reason.NEW,
        "requisition_number": test_order.requisition_number,
    }
    _check_order_facts(customer=test_order.customer, facts=facts)
    with transaction.atomic():
        locked = lock_order(test_order)
        if not production_order_offered(locked):
            raise NotAllowedNow(
                _(
                    "Production access is ordered once from a running or expired test access; "
                    "see the orders linked to it."
                )
            )
        order = AccessOrder(customer=locked.customer, created_by=actor, test_order=locked)
        comment = _("Ordered from the test access %(reference)s.") % {"reference": locked.reference}
        _save_draft(order, actor, facts, comment=comment)
    return order
