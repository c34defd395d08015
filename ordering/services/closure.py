"""Every way an access ends: asked for, scheduled, closed by hand or on the date, replaced by the order that
changes it, emergency-closed by support or asked for by the customer. One `_end_access` for all but the
emergency."""

import datetime
import logging

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from core.errors import ChangedMeanwhile, Invalid, NotAllowedNow, NotPermitted, Refusal
from core.transactions import retry_on_conflict

from .. import audit as ordering_audit
from .. import lifecycle, transitions
from ..audit import AuditKind
from ..models import (
    ACCESS_AGREED_STATES,
    ACCESS_RUNNING_STATES,
    CLOSED_STATES,
    AccessOrder,
)
from ..roles import Role, order_roles
from .running import (
    _audit_and_notify,
    _comment,
    _require_text,
    _run_transition,
    _short_date,
    lock_order,
)

logger = logging.getLogger(__name__)


def _close_changed_access(order: AccessOrder, actor) -> None:
    """A change order replaces the access it changes, and a replacement order the other system's access
    it names: that one ends the day the new one starts, with its billing."""
    previous_id = order.changes_order_id or order.replaces_order_id
    if not previous_id:
        return
    previous = AccessOrder.objects.select_for_update(no_key=True).get(pk=previous_id)
    if previous.state not in ACCESS_RUNNING_STATES:
        return
    # The account manager activating the change is also the one who may close the old access.
    _end_access(
        previous,
        actor,
        role=Role.ACCOUNT_MANAGER,
        on=order.activated_on,
        params={ordering_audit.REPLACED_BY: order.reference},
    )


def _end_access(
    order: AccessOrder,
    actor,
    *,
    role: str,
    on: datetime.date,
    kind: AuditKind = AuditKind.CLOSE,
    comment: str = "",
    params: dict | None = None,
    job: str = "",
    end_licence_ids: list[int] | None = None,
) -> None:
    """Every way an access ends but an emergency: closed by hand, on the date scheduled, replaced by the order
    that changes or replaces it, or a startup package's test access running out. The order closes on `on`,
    billing stops that day and ends the licences no other access uses (or those chosen), one audit event
    records it, and that event's kind decides the e-mails (ordering/notifications.py). The caller has locked
    the order and checked who may do it."""
    from_state = order.state
    order.close(on=on)
    order.save(update_fields=["state", "closed_on", "updated_at"])
    lifecycle.billing().on_close(order=order, actor=actor, on=on, end_licence_ids=end_licence_ids)
    _audit_and_notify(
        order=order, actor=actor, job=job, role=role, kind=kind, from_state=from_state, comment=comment, params=params
    )


def order_request_closure(
    *, order: AccessOrder, actor, comment: str = "", wished_on: datetime.date | None = None
) -> AccessOrder:
    """The orderer asks the account manager to close the access, on a wished date or as soon as possible."""
    problem = transitions.wished_closure_problem(wished_on)
    if problem:
        raise Invalid(problem, errors={"wished_on": problem})
    return _run_transition(
        order,
        actor,
        transitions.REQUEST_CLOSURE,
        fields=["closure_wished_on"],
        comment=comment,
        params={ordering_audit.WISHED_ON: wished_on},
        wished_on=wished_on,
    )


def order_withdraw_closure_request(*, order: AccessOrder, actor, comment: str = "") -> AccessOrder:
    """The orderer takes the request back; a closure scheduled at their request is cancelled with it."""
    return _run_transition(
        order,
        actor,
        transitions.WITHDRAW_CLOSURE_REQUEST,
        fields=["closure_wished_on", "closure_scheduled_on"],
        comment=comment,
        params={ordering_audit.CANCELLED_CLOSURE_ON: order.closure_scheduled_on},
    )


def order_schedule_closure(*, order: AccessOrder, actor, on: datetime.date, comment: str = "") -> AccessOrder:
    """The account manager closes the access on a future date (e.g. year end). Until then it stays active
    and billed; `accesses_close_as_scheduled` closes it on the day. Scheduling again moves the date."""
    problem = transitions.scheduled_closure_problem(on)
    if problem:
        raise Invalid(problem, errors={"on": problem})
    return _run_transition(
        order,
        actor,
        transitions.SCHEDULE_CLOSURE,
        fields=["closure_scheduled_on"],
        comment=comment,
        params={ordering_audit.ENDS_ON: on},
        on=on,
    )


def order_cancel_scheduled_closure(*, order: AccessOrder, actor, comment: str = "") -> AccessOrder:
    # That a closure is scheduled is the spec's precondition (transitions.CANCEL_SCHEDULED_CLOSURE).
    return _run_transition(
        order,
        actor,
        transitions.CANCEL_SCHEDULED_CLOSURE,
        fields=["closure_scheduled_on"],
        comment=comment,
        params={ordering_audit.CANCELLED_CLOSURE_ON: order.closure_scheduled_on},
    )


def order_close_as_scheduled(*, order: AccessOrder) -> AccessOrder:
    """Close an access on the date its account manager scheduled (the daily beat task calls this).

    Closing was the account manager's decision, recorded when they scheduled it (an audit event of its own);
    this records the job that kept the date (no person, `job`). Closing on the scheduled date stops billing
    that day and ends the licences no other access uses, as closing by hand does by default.
    """
    on = order.closure_scheduled_on
    job = ordering_audit.JOB_CLOSE_AS_SCHEDULED

    def still_due(locked: AccessOrder) -> None:
        if on is None or locked.closure_scheduled_on != on or on > timezone.localdate():
            raise ChangedMeanwhile(_("The scheduled closure was moved or cancelled meanwhile."))

    return _run_transition(
        order,
        None,
        transitions.CLOSE,
        job=job,
        check=still_due,
        perform=lambda o: _end_access(
            o, None, job=job, role="", on=on, params={ordering_audit.CLOSED_AS_SCHEDULED: True}
        ),
    )


def accesses_close_as_scheduled() -> int:
    """Close every access whose scheduled date has come (beat, daily). Safe to run again: a closed access
    is not due any more. A day missed while beat was down is caught up, closing on the scheduled date."""
    due = (
        AccessOrder.objects.access_running()
        .filter(closure_scheduled_on__lte=timezone.localdate())
        .select_related("customer__account_manager")
    )
    closed = 0
    for order in due:
        try:
            order_close_as_scheduled(order=order)
        except Refusal as refusal:
            logger.warning("Scheduled closure of %s not done: %s", order.reference, refusal, extra={"order": order.pk})
            continue
        closed += 1
    return closed


def order_close(
    *,
    order: AccessOrder,
    actor,
    on: datetime.date | None = None,
    comment: str = "",
    end_licence_ids: list[int] | None = None,
) -> AccessOrder:
    """Close access on a date. Licences no other access uses end too: all of them by default,
    or those in `end_licence_ids` when the account manager chose."""
    on = on or timezone.localdate()
    if on > timezone.localdate():
        raise Invalid(_("Access can only be closed today or on a past date, not in the future."))

    def not_before_activation(locked: AccessOrder) -> None:
        if locked.activated_on and on < locked.activated_on:
            raise Invalid(
                _("The closing date cannot be before access was established (%(date)s).")
                % {"date": _short_date(locked.activated_on)}
            )

    return _run_transition(
        order,
        actor,
        transitions.CLOSE,
        check=not_before_activation,
        perform=lambda o: _end_access(
            o, actor, role=transitions.CLOSE.role, on=on, comment=_comment(comment), end_licence_ids=end_licence_ids
        ),
    )


def order_emergency_close(*, order: AccessOrder, actor, reason: str, incident: str = "") -> AccessOrder:
    """Support close the access at once. `incident` names the system or vendor when this order is one of an
    incident closure's (ordering/services/incidents.py), which calls this for each of them in its transaction."""
    reason = _require_text(
        reason, _("Give the reason for the emergency closure; customer and account manager will see it.")
    )
    return _run_transition(
        order,
        actor,
        transitions.EMERGENCY_CLOSE,
        fields=["emergency_reason", "closed_on"],
        comment=reason,
        params={ordering_audit.INCIDENT: incident},
        after=lambda o: lifecycle.billing().on_emergency_close(order=o, actor=actor, on=o.closed_on),
        reason=reason,
        on=timezone.localdate(),
    )


def emergency_request_refusal(order: AccessOrder, roles: set) -> Refusal | None:
    """Why these roles cannot ask support to close this access at once, or None: the one rule the order page
    (to offer the form) and the service (to refuse) ask."""
    if not roles & {Role.ORDERER, Role.SIGNATORY}:
        return NotPermitted(_("Only an orderer or signatory at the customer can request an emergency closure."))
    if order.state in CLOSED_STATES:
        return NotAllowedNow(
            _("The access is already closed (“%(state)s” on %(date)s); there is nothing to close.")
            % {"state": order.get_state_display(), "date": _short_date(order.closed_on)}
        )
    if order.state not in ACCESS_AGREED_STATES:
        return NotAllowedNow(
            _("This order gives no access (it is “%(state)s”), so there is nothing to close.")
            % {"state": order.get_state_display()}
        )
    if order.emergency_requested_at is not None:
        requested = timezone.localtime(order.emergency_requested_at)
        return NotAllowedNow(
            _(
                "An emergency closure was already requested at %(time)s and support have been told. "
                "Call them if it is urgent."
            )
            % {"time": formats.date_format(requested, "SHORT_DATETIME_FORMAT")}
        )
    return None


@retry_on_conflict
def order_request_emergency_closure(*, order: AccessOrder, actor, reason: str) -> AccessOrder:
    """An orderer or signatory asks support to close the access at once (e.g. a security breach at the vendor).

    Not a transition: the access runs until support emergency-close it, and two customer roles may ask,
    where a transition has one role. Support are e-mailed at once and see it first on their start page.
    """
    reason = _require_text(reason, _("Say why the access must be closed at once; support read it before they act."))
    with transaction.atomic():
        locked = lock_order(order)
        roles = order_roles(actor, locked)
        refusal = emergency_request_refusal(locked, roles)
        if refusal is not None:
            raise refusal
        role = next(r for r in (Role.ORDERER, Role.SIGNATORY) if r in roles)
        locked.emergency_requested_at = timezone.now()
        locked.emergency_request_reason = reason
        locked.save(update_fields=["emergency_requested_at", "emergency_request_reason", "updated_at"])
        _audit_and_notify(
            order=locked, actor=actor, role=role, kind=AuditKind.EMERGENCY_CLOSURE_REQUESTED, comment=reason
        )
    return locked
