"""What billing records in the audit trail (audit/)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from audit import vocabulary


class BillingAuditKind(models.TextChoices):
    QUOTE_ADJUSTED = "quote_adjusted", _("Price adjusted")
    CONSULTING_RECORDED = "consulting_recorded", _("Consulting hours recorded")
    STARTUP_USAGE_RECORDED = "startup_usage_recorded", _("Use of the start-up package recorded")
    LICENCE_ENDED = "licence_ended", _("Licence ended")
    SHARED_FEE_MOVED = "shared_fee_moved", _("A fee due once moved to this order")
    ADDITIONAL_SYSTEM_COVERED = "additional_system_covered", _("The contract now covers one more system")
    PRICE_LIST_CHANGED = "price_list_changed", _("Price list created or changed")


class BillingRunAuditKind(models.TextChoices):
    """KMD's own records, never published to webhooks: a run bills every customer, and is about none of them."""

    BILLING_RUN_STARTED = "billing_run_started", _("Billing run started from the billing page")


def register() -> None:
    """Called by BillingConfig.ready()."""
    vocabulary.register_kinds("billing", BillingAuditKind)
    vocabulary.register_kinds("billing", BillingRunAuditKind, published=False)
    # What a billing run started from the page billed (billing.services.billing_run).
    vocabulary.register_sentence("billed_month_on", gettext_noop("Billed the month beginning %(billed_month_on)s."))
    vocabulary.register_sentence("invoices_made", gettext_noop("Invoices made: %(invoices_made)s."))
