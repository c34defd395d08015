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
    from billing.models import QuoteAdjustment

    vocabulary.register_kinds("billing", BillingAuditKind)
    vocabulary.register_kinds("billing", BillingRunAuditKind, published=False)
    # What a billing run started from the page billed (billing.services.billing_run).
    vocabulary.register_sentence("billed_month_on", gettext_noop("Billed the month beginning %(billed_month_on)s."))
    vocabulary.register_sentence("invoices_made", gettext_noop("Invoices made: %(invoices_made)s."))
    vocabulary.register_labels("adjustment_kind", QuoteAdjustment.Kind)
    for param, template in SENTENCES.items():
        vocabulary.register_sentence(param, template)


# What billing's events state, in each reader's language ("-500,00 kr.", "04.12.2029"). Amounts end in "kr.",
# so these sentences have no full stop of their own.
SENTENCES = {
    "adjustment_kr": gettext_noop("%(adjustment_kind)s: %(adjustment_kr)s"),
    "covered_fee_kr": gettext_noop("Fee: %(covered_fee_kr)s"),
    "consulting_kr": gettext_noop("%(consulting_on)s: %(consulting_hours_number)s hours, %(consulting_kr)s"),
}
