"""What webhooks record in the audit trail (audit/): the catalogue admin's and the customer's user administrator's
actions on endpoints and deliveries. KMD's own record, not published to webhooks."""

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
    WEBHOOK_ENDPOINT_ADDED = "webhook_endpoint_added", _("Webhook endpoint added")
    WEBHOOK_ENDPOINT_REMOVED = "webhook_endpoint_removed", _("Webhook endpoint removed")
    # Also the event a test webhook is made from: unpublished, so it goes to the one endpoint tested and no other.
    WEBHOOK_TEST_SENT = "webhook_test_sent", _("Test webhook sent to the endpoint")


WEBHOOKS_CANCELLED = "webhooks_cancelled"
WEBHOOK_URL = "webhook_url"


def register() -> None:
    """Called by WebhooksConfig.ready()."""
    vocabulary.register_kinds("webhooks", WebhookAuditKind, published=False)
    vocabulary.register_sentence(
        WEBHOOKS_CANCELLED, gettext_noop("Waiting webhooks cancelled: %(webhooks_cancelled)s.")
    )
    vocabulary.register_sentence(WEBHOOK_URL, gettext_noop("Endpoint URL: %(webhook_url)s."))
