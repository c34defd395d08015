"""Who is told about which event, and the e-mail they get."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from audit.models import AuditEvent
from core.email import build_email
from core.outbox import outbox_handler

from .audit import AuditKind
from .models import Notification
from .transitions import TRANSITIONS, Audience

NOTIFY_EVENT = "ordering.notify_event"  # the outbox handler (core/outbox.py)

# The events that e-mail someone without being a transition; a transition's recipients and templates
# are in its spec (ordering/transitions.py). Templates: ordering/email/<kind>_subject.txt, _body.txt, _body.html.
# Apps above ordering add theirs with `notify_on` (certificates/audit.py).
OTHER_EVENTS: dict[str, frozenset[Audience]] = {
    # 30 and 7 days before a startup package's test access ends by itself.
    AuditKind.TEST_ACCESS_EXPIRING: frozenset({Audience.ORDERERS, Audience.ACCOUNT_MANAGER}),
    # The source sends the customer to support for an emergency closure: support act, the account manager knows.
    AuditKind.EMERGENCY_CLOSURE_REQUESTED: frozenset({Audience.SUPPORT, Audience.ACCOUNT_MANAGER}),
    # A message in the order's thread goes to the other side (ordering/thread.py): the customer's orderers and
    # signatories hear from KMD, the account manager hears from the customer.
    AuditKind.MESSAGE_FROM_CUSTOMER: frozenset({Audience.ACCOUNT_MANAGER}),
    AuditKind.MESSAGE_FROM_KMD: frozenset({Audience.ORDERERS, Audience.SIGNATORIES}),
}

# Event kind -> who hears about it. Kinds not here send nothing.
RECIPIENTS: dict[str, frozenset[Audience]] = {
    **{spec.kind: spec.recipients for spec in TRANSITIONS.values() if spec.recipients},
    **OTHER_EVENTS,
}


def notify_on(kind: str, audiences: set[Audience]) -> None:
    """E-mail these audiences about every event of `kind` about an order (an app above ordering calls this
    in its ready(); the templates are ordering/email/<kind>_*)."""
    RECIPIENTS[kind] = frozenset(audiences)


def email_template(kind: str) -> str:
    spec = TRANSITIONS.get(kind)
    return spec.email_template if spec is not None else f"ordering/email/{kind}"


def recipients_for(event: AuditEvent) -> list[User]:
    groups = RECIPIENTS.get(event.kind, frozenset())
    if not groups:
        return []
    customer = event.order.customer
    users: dict[int, User] = {}
    if Audience.ACCOUNT_MANAGER in groups:
        users[customer.account_manager_id] = customer.account_manager
    if Audience.SUPPORT in groups:
        users.update((u.pk, u) for u in User.objects.filter(is_support=True, is_active=True))
    memberships = customer.memberships.select_related("user").filter(user__is_active=True)
    for m in memberships:
        if (Audience.ORDERERS in groups and m.is_orderer) or (Audience.SIGNATORIES in groups and m.is_signatory):
            users[m.user_id] = m.user
    # Nobody needs an e-mail about what they just did themselves.
    users.pop(event.actor_id, None)
    return [u for u in users.values() if u.email]


def order_url(order) -> str:
    return settings.SITE_URL + reverse("ordering:order_detail", args=[order.pk])


def render_event_email(event: AuditEvent, recipient: User) -> EmailMultiAlternatives:
    context = {"event": event, "order": event.order, "recipient": recipient, "order_url": order_url(event.order)}
    return build_email(email_template(event.kind), context, recipient.email)


@outbox_handler(NOTIFY_EVENT, label=_("E-mails about an order event"))
def notify_event(event_id: int) -> int:
    """Send the e-mails for one audit event; each recipient gets it once, however often this runs."""
    event = AuditEvent.objects.select_related(
        "order__customer__account_manager", "order__external_system__vendor", "actor"
    ).get(pk=event_id)
    already = set(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))
    sent = 0
    with get_connection() as connection:
        for recipient in recipients_for(event):
            if recipient.pk in already:
                continue
            message = render_event_email(event, recipient)
            message.connection = connection
            message.send()
            try:
                with transaction.atomic():
                    Notification.objects.create(event=event, recipient=recipient, email=recipient.email)
            except IntegrityError:
                # A parallel run recorded it first; the e-mail went out twice at worst, never zero times.
                pass
            sent += 1
    return sent
