"""Who is told about which event, and the e-mail they get."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.outbox import outbox_handler

from .models import AuditEvent, Notification

ORDERERS, SIGNATORIES, ACCOUNT_MANAGER = "orderers", "signatories", "account_manager"
NOTIFY_EVENT = "ordering.notify_event"  # the outbox handler (core/outbox.py)

# Transition -> who hears about it. Transitions not named here send nothing.
RECIPIENTS = {
    "submit": {ACCOUNT_MANAGER},
    "return_for_changes": {ORDERERS},
    "reject": {ORDERERS},
    "withdraw": {ACCOUNT_MANAGER},
    "issue_addendum": {SIGNATORIES},
    "revise": {SIGNATORIES},
    "accept": {ACCOUNT_MANAGER, ORDERERS},
    "decline": {ACCOUNT_MANAGER, ORDERERS},
    "activate": {ORDERERS},
    "request_closure": {ACCOUNT_MANAGER},
    "close": {ORDERERS},
    "emergency_close": {ORDERERS, SIGNATORIES, ACCOUNT_MANAGER},
    "certificate_rollover_requested": {ACCOUNT_MANAGER},
    "certificate_rollover_confirmed": {ORDERERS},
}


def recipients_for(event: AuditEvent) -> list[User]:
    groups = RECIPIENTS.get(event.kind, set())
    if not groups:
        return []
    customer = event.order.customer
    users: dict[int, User] = {}
    if ACCOUNT_MANAGER in groups:
        users[customer.account_manager_id] = customer.account_manager
    memberships = customer.memberships.select_related("user").filter(user__is_active=True)
    for m in memberships:
        if (ORDERERS in groups and m.is_orderer) or (SIGNATORIES in groups and m.is_signatory):
            users[m.user_id] = m.user
    # Nobody needs an e-mail about what they just did themselves.
    users.pop(event.actor_id, None)
    return [u for u in users.values() if u.email]


def build_email(template_base: str, context: dict, to: str) -> EmailMultiAlternatives:
    """An e-mail from the `<base>_subject.txt`, `<base>_body.txt` and `<base>_body.html` templates.

    E-mails are Danish: they go to Danish public-sector staff and KMD, whatever the sender's language.
    """
    with translation.override("da"):
        subject = " ".join(render_to_string(f"{template_base}_subject.txt", context).split())
        text = render_to_string(f"{template_base}_body.txt", context)
        html = render_to_string(f"{template_base}_body.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    return message


def order_url(order) -> str:
    return settings.SITE_URL + reverse("ordering:order_detail", args=[order.pk])


def render_event_email(event: AuditEvent, recipient: User) -> EmailMultiAlternatives:
    context = {"event": event, "order": event.order, "recipient": recipient, "order_url": order_url(event.order)}
    return build_email(f"ordering/email/{event.kind}", context, recipient.email)


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
