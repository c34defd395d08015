"""What webhooks record in the audit trail (audit/): the catalogue admin's actions on endpoints and
deliveries. KMD's own record, not published to webhooks."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from audit import vocabulary


class WebhookAuditKind(models.TextChoices):
    WEBHOOK_SECRET_ROTATED = "webhook_secret_rotated", _("Webhook endpoint given a new signing secret")
    WEBHOOK_ENDPOINT_MOVED = (
        "webhook_endpoint_moved",
        _("Webhook endpoint moved to another customer or URL: new signing secret"),
    )
    WEBHOOK_SENT_AGAIN = "webhook_sent_again", _("Webhook sent again with the same webhook id")


WEBHOOKS_CANCELLED = "webhooks_cancelled"


def register() -> None:
    """Called by WebhooksConfig.ready()."""
    vocabulary.register_kinds("webhooks", WebhookAuditKind, published=False)
    vocabulary.register_sentence(
        WEBHOOKS_CANCELLED, gettext_noop("Waiting webhooks cancelled: %(webhooks_cancelled)s.")
    )
