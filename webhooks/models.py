"""Webhook endpoints and the deliveries of audit events to them (webhooks/services.py sends them)."""

import base64
import secrets

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import vocabulary
from audit.models import AuditEvent
from core.fields import optional
from ordering.models import Customer

from .transport import validate_endpoint_url

# Attempts kept per delivery: enough to see a pattern, bounded however often a receiver fails or is redelivered to.
ATTEMPTS_KEPT = 20
ERROR_LENGTH = 500


def new_secret() -> str:
    """A Standard Webhooks signing secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    """A URL that receives signed webhooks: a customer's own system (its ITSM), or KMD's (provisioning).

    A customer's endpoint receives the events of that customer only; a KMD-wide endpoint (no customer)
    receives every event, including those about no customer (price lists).
    """

    url = models.URLField(_("URL"), max_length=500, validators=[validate_endpoint_url])
    description = models.CharField(_("description"), max_length=200, blank=True)
    customer = optional(
        Customer,
        _("customer"),
        related_name="webhook_endpoints",
        help_text=_("Empty: a KMD endpoint that receives every customer's events."),
    )
    # Published audit kinds (audit/vocabulary.py); empty: every kind. A list rather than a table: it is read whole, never queried by kind.
    kinds = models.JSONField(_("event kinds"), default=list, blank=True, help_text=_("Empty: every kind of event."))
    # Standard Webhooks' "whsec_" + base64 of 32 random bytes. Kept in clear: signing needs the key itself.
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def clean(self) -> None:
        known = {kind.value for kind in vocabulary.published_kinds()}
        unknown = [kind for kind in self.kinds or [] if kind not in known]
        if not isinstance(self.kinds, list) or unknown:
            raise ValidationError({"kinds": _("Unknown event kinds: %(kinds)s.") % {"kinds": ", ".join(unknown)}})


class WebhookDelivery(models.Model):
    """One audit event for one endpoint. Its webhook id stays the same however often it is sent."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Given up")
        CANCELLED = "cancelled", _("Not sent: the endpoint was deactivated or changed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(AuditEvent, verbose_name=_("audit event"), on_delete=models.PROTECT, related_name="+")
    # The customer the event is about (None: no customer), checked again against the endpoint when sending.
    customer = optional(Customer, _("customer"), related_name="+")
    # An audit kind (audit/vocabulary.py). No choices here: a new kind needs no migration of webhooks.
    kind = models.CharField(_("kind"), max_length=40)
    webhook_id = models.CharField(_("webhook id"), max_length=40)
    # The exact body signed and sent, fixed when the event happened: every attempt sends the same bytes.
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=ERROR_LENGTH, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_one_delivery_per_endpoint_and_event")
        ]
        indexes = [models.Index(fields=["status", "-id"], name="webhook_delivery_status")]

    def __str__(self) -> str:
        return f"{self.webhook_id} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One POST of a delivery and how the receiver answered (the newest ATTEMPTS_KEPT are kept)."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(_("time"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=ERROR_LENGTH, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"{self.delivery.webhook_id} {self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
