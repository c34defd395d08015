"""Support's incident closure: every running access of one external system, or of every system of one vendor,
emergency-closed in one confirmed step (e.g. after a security breach at the vendor).

Each order is closed by `order_emergency_close`, the same path as support closing one order (its own audit event,
its billing, its customer's and account manager's e-mails after commit); one more event, about the system or vendor,
groups them. All of it is one transaction: the access register is computed from the orders (registers/access.py),
so it lists none of them from the commit on, and a closure that fails midway closes none.

Support confirm the list they saw: the page sends the ids of the orders it showed, and when the running accesses
are no longer exactly those (one was closed meanwhile, or a new one was established), nothing is closed and
support are shown the list as it is now. Closing a different set than the one confirmed would make the count
support confirmed ("Lukker 7 adgange …") untrue.
"""

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.roles import is_support
from audit.trail import audit_record
from core.errors import ChangedMeanwhile, NotAllowedNow, NotPermitted
from core.transactions import retry_on_conflict

from .. import audit as ordering_audit
from ..audit import AuditKind
from ..models import ACCESS_RUNNING_STATES, AccessOrder, Customer
from ..roles import Role
from ..selectors import IncidentTarget, incident_condition
from . import closure
from .running import _require_text, lock_orders


def incident_label(target: IncidentTarget) -> str:
    """How the system or vendor is named in sentences and in each order's event: "VagtPlan (Vagtdata A/S)"."""
    return str(target)


def _references(pks: Iterable[int]) -> str:
    return ", ".join(AccessOrder(pk=pk).reference for pk in sorted(pks))


@retry_on_conflict
def incident_close(*, target: IncidentTarget, actor, reason: str, expected_ids: Iterable[int]) -> list[AccessOrder]:
    """Emergency-close every running access of `target` (an ExternalSystem or a Vendor), provided they are exactly
    `expected_ids` (the list support confirmed). Returns the closed orders."""
    if not is_support(actor):
        raise NotPermitted(_("Only KMD Opus Personale support can close every access of a system or vendor at once."))
    reason = _require_text(
        reason,
        _("Give the reason for the incident closure; every customer and account manager concerned will see it."),
    )
    expected = set(expected_ids)
    label = incident_label(target)
    with transaction.atomic():
        orders = AccessOrder.objects.filter(incident_condition(target))
        # The customers of every order with an accepted addendum are locked, not only those running now: an order
        # being established meanwhile (activating locks its customer first) waits, so none starts running unseen.
        customers = Customer.objects.filter(pk__in=orders.access_agreed().values("customer_id"))
        running = [
            o for o in lock_orders(orders.access_running(), customers=customers) if o.state in ACCESS_RUNNING_STATES
        ]
        found = {order.pk for order in running}
        if not found:
            raise NotAllowedNow(
                _("%(target)s has no running access, so there is nothing to close.") % {"target": label}
            )
        if found != expected:
            raise ChangedMeanwhile(_changed_message(label, gone=expected - found, new=found - expected, now=len(found)))
        for order in running:
            closure.order_emergency_close(order=order, actor=actor, reason=reason, incident=label)
        audit_record(
            kind=AuditKind.INCIDENT_CLOSE,
            actor=actor,
            role=Role.SUPPORT,
            subject=target,
            comment=reason,
            params={ordering_audit.INCIDENT_ORDERS: _references(found), "incident_count": len(found)},
        )
    return running


def _changed_message(label: str, *, gone: set[int], new: set[int], now: int) -> str:
    parts = []
    if gone:
        parts.append(_("no longer running: %(orders)s") % {"orders": _references(gone)})
    if new:
        parts.append(_("newly running: %(orders)s") % {"orders": _references(new)})
    return ngettext(
        "The running accesses of %(target)s changed after you looked at the list (%(changes)s). Nothing was "
        "closed: check the list again and confirm the %(count)s access it shows now.",
        "The running accesses of %(target)s changed after you looked at the list (%(changes)s). Nothing was "
        "closed: check the list again and confirm the %(count)s accesses it shows now.",
        now,
    ) % {"target": label, "changes": "; ".join(parts), "count": now}
