"""Models every feature app relies on."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .fields import person


class OutboxMessage(models.Model):
    """An e-mail or background job that a write caused, stored in the write's own transaction.

    core/outbox.py delivers it at least once and records how that went: a broker or SMTP outage
    delays the work, and never loses it. The row id is the delivery's idempotency key.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Given up")
        # The work it carried is no longer wanted (a webhook whose endpoint moved): closed without running.
        CANCELLED = "cancelled", _("Not sent: no longer needed")

    handler = models.CharField(_("handler"), max_length=80)
    # Work that must not be queued twice (one render per addendum) shares a key; "" for none.
    key = models.CharField(_("key"), max_length=120, blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    # What it is about, for logs and support. Plain ids: the outbox belongs to no feature app.
    order_id = models.BigIntegerField(_("order"), null=True, blank=True, db_index=True)
    event_id = models.BigIntegerField(_("audit event"), null=True, blank=True)
    subject = models.CharField(_("about"), max_length=100, blank=True)

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Set while a Celery message for the row is on its way; cleared when a worker takes it.
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True)
    # A delivery holds the row until claimed_until; a worker killed meanwhile lets the claim run out.
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    claim_token = models.CharField(_("claim token"), max_length=64, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    sent_again_by = person(_("sent again by"), optional=True)
    sent_again_at = models.DateTimeField(_("sent again"), null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_status_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(status__in=["pending", "dead"]) & ~Q(key=""),
                name="outbox_one_open_message_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"outbox #{self.pk} {self.handler}"


class FormSubmission(models.Model):
    """A form token, claimed in the transaction of the write that the form caused (core/form_tokens.py).

    The unique (user, token) index is what makes a form act once: a second submission of the same
    token waits on the first's claim and then finds its result here, and gets the same answer.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    token = models.CharField(_("form token"), max_length=64)
    path = models.CharField(_("path"), max_length=500)  # where the form was sent: a token answers for one form only
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    # The answer the first submission got, for any later one: where it was sent and what it was told.
    redirect_to = models.CharField(_("redirect to"), max_length=2000, blank=True)
    message_level = models.PositiveSmallIntegerField(_("message level"), default=25)
    message = models.TextField(_("message"), blank=True)

    class Meta:
        verbose_name = _("form submission")
        verbose_name_plural = _("form submissions")
        constraints = [models.UniqueConstraint(fields=["user", "token"], name="form_token_once_per_user")]

    def __str__(self) -> str:
        return f"form token {self.token[:8]}… of user #{self.user_id}"
