"""What core records in the audit trail (audit/): support sending a given-up outbox message again. KMD's own
record, not published to webhooks."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from audit import vocabulary


class OutboxAuditKind(models.TextChoices):
    OUTBOX_SENT_AGAIN = "outbox_sent_again", _("Given-up message sent again by support")


def register() -> None:
    """Called by CoreConfig.ready()."""
    vocabulary.register_kinds("core", OutboxAuditKind, published=False)
