"""What ordering records in the audit trail (audit/): its kinds of event, the words its events are read in,
and the cross-check of the orders against their events that `verify_audit_log` runs."""

from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from audit import vocabulary
from audit.models import AuditEvent
from audit.verification import ChainProblem, register_check

from .models import RENDER_AGAIN_KIND, AccessOrder, State
from .roles import Role


class AuditKind(models.TextChoices):
    """What happens to an order, a customer's people and its own systems. The order transitions keep their
    method names."""

    CREATE = "create", _("Order created")
    EDIT = "edit", _("Draft changed")
    SUBMIT = "submit", _("Submitted")
    RETURN_FOR_CHANGES = "return_for_changes", _("Returned for changes")
    REJECT = "reject", _("Rejected")
    WITHDRAW = "withdraw", _("Withdrawn")
    DISCARD = "discard", _("Draft discarded")
    ISSUE_ADDENDUM = "issue_addendum", _("Contract addendum issued")
    REVISE = "revise", _("New addendum version issued")
    ACCEPT = "accept", _("Addendum accepted")
    DECLINE = "decline", _("Addendum declined")
    ACTIVATE = "activate", _("Access established")
    REQUEST_CLOSURE = "request_closure", _("Closure requested")
    WITHDRAW_CLOSURE_REQUEST = "withdraw_closure_request", _("Closure request withdrawn")
    SCHEDULE_CLOSURE = "schedule_closure", _("Closure scheduled")
    CANCEL_SCHEDULED_CLOSURE = "cancel_scheduled_closure", _("Scheduled closure cancelled")
    EMERGENCY_CLOSURE_REQUESTED = "emergency_closure_requested", _("Emergency closure requested by the customer")
    CLOSE = "close", _("Access closed")
    EMERGENCY_CLOSE = "emergency_close", _("Emergency-closed")
    # Support's incident closure: every running access of one external system or vendor emergency-closed in one
    # step. Each order has its own EMERGENCY_CLOSE event; this one, about the system or vendor, groups them.
    INCIDENT_CLOSE = "incident_close", _("Incident closure: every running access of a system or vendor closed")
    ADDENDUM_RENDER_AGAIN = RENDER_AGAIN_KIND, _("Addendum document generated again")
    CONSULTING_REQUESTED = "consulting_requested", _("Help from KMD requested")
    CONSULTING_REQUEST_ANSWERED = "consulting_request_answered", _("Request for help from KMD answered")
    TEST_ACCESS_EXPIRING = "test_access_expiring", _("Test access ends soon: notice sent")
    TEST_ACCESS_EXTENDED = "test_access_extended", _("Test access extended")
    TEST_ACCESS_EXPIRED = "test_access_expired", _("Test access expired")
    SYSTEM_REGISTERED = "system_registered", _("External system registered by the customer")
    VENDOR_AGREEMENT_CONFIRMED = "vendor_agreement_confirmed", _("Agreement with the vendor confirmed")
    ROLES_CHANGED = "roles_changed", _("Roles at the customer changed")
    INVITATION_SENT = "invitation_sent", _("Colleague invited")
    INVITATION_USED = "invitation_used", _("Invitation used at a MitID Erhverv login")
    INVITATION_REVOKED = "invitation_revoked", _("Invitation revoked")
    ACCESS_CLARIFIED = "access_clarified", _("Access rights clarified")
    # The order's thread (ordering/thread.py): one kind per side, so that each side's e-mail goes to the other.
    MESSAGE_FROM_CUSTOMER = "message_from_customer", _("Message from the customer")
    MESSAGE_FROM_KMD = "message_from_kmd", _("Message from KMD")


# What the app itself states about an event, as parameters (audit/vocabulary.py): each makes a sentence in
# the reader's language when the event carries it. A name ending in `_on` is a date.
WISHED_ON = "wished_on"
ENDS_ON = "ends_on"
CANCELLED_CLOSURE_ON = "cancelled_closure_on"
REPLACED_BY = "replaced_by"
CLOSED_AS_SCHEDULED = "closed_as_scheduled"
TEST_ACCESS_ENDS_ON = "test_access_ends_on"
TEST_ACCESS_ENDED_ON = "test_access_ended_on"
EXTENDED_FROM_ON = "extended_from_on"
INCIDENT = "incident"  # on each order's emergency closure: the system or vendor the incident closure was for
INCIDENT_ORDERS = "incident_orders"  # on the incident event: the orders it closed, and how many (incident_count)
ATTACHMENTS = "attachments"
SENTENCES = {
    WISHED_ON: gettext_noop("Wished closing date: %(wished_on)s."),
    ENDS_ON: gettext_noop("Access ends on %(ends_on)s."),
    CANCELLED_CLOSURE_ON: gettext_noop("The closure scheduled for %(cancelled_closure_on)s is cancelled."),
    REPLACED_BY: gettext_noop("Replaced by %(replaced_by)s."),
    CLOSED_AS_SCHEDULED: gettext_noop("Closed on the date the account manager scheduled."),
    TEST_ACCESS_ENDS_ON: gettext_noop("The test access ends on %(test_access_ends_on)s, in %(days_left)s days."),
    TEST_ACCESS_ENDED_ON: gettext_noop(
        "The startup package's test access ended by itself on %(test_access_ended_on)s."
    ),
    EXTENDED_FROM_ON: gettext_noop("Extended from %(extended_from_on)s to %(extended_to_on)s."),
    INCIDENT: gettext_noop("Closed with every running access of %(incident)s (incident closure)."),
    INCIDENT_ORDERS: gettext_noop("Emergency-closed accesses (%(incident_count)s): %(incident_orders)s."),
    ATTACHMENTS: gettext_noop("Attached: %(attachments)s."),
}

# The system jobs that act on orders (AuditEvent.job).
JOB_CLOSE_AS_SCHEDULED = "close_as_scheduled"
JOB_TEST_ACCESS_SWEEP = "test_access_sweep"


def register() -> None:
    """Called by OrderingConfig.ready()."""
    vocabulary.register_kinds("ordering", AuditKind)
    vocabulary.register_checkpoint_after(AuditKind.ACCEPT, AuditKind.EMERGENCY_CLOSE, AuditKind.INCIDENT_CLOSE)
    vocabulary.register_labels("state", State)
    vocabulary.register_labels("role", Role)
    for param, template in SENTENCES.items():
        vocabulary.register_sentence(param, template)
    register_check(verify_orders)


def verify_orders() -> list[ChainProblem]:
    """Each order has its creation event, and its newest event left it in the state it is in."""
    newest = AuditEvent.objects.filter(order=OuterRef("pk")).order_by("-seq")
    created = AuditEvent.objects.filter(order=OuterRef("pk"), kind=AuditKind.CREATE).order_by("seq")
    rows = AccessOrder.objects.annotate(
        created_seq=Subquery(created.values("seq")[:1]),
        last_seq=Subquery(newest.values("seq")[:1]),
        last_state=Subquery(newest.values("to_state")[:1]),
    ).values_list("pk", "state", "created_seq", "last_seq", "last_state")
    problems = []
    for pk, state, created_seq, last_seq, last_state in rows.order_by("pk").iterator(chunk_size=2000):
        reference = f"OA-{pk:06d}"
        if created_seq is None:
            problems.append(ChainProblem(last_seq or 0, f"order {reference} has no creation event"))
        elif last_state != state:
            problems.append(
                ChainProblem(
                    last_seq,
                    f"order {reference} is “{state}” but its newest event (#{last_seq}) left it “{last_state}”",
                )
            )
    return problems
