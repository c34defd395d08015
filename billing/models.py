"""Price lists, charges, recurring fees (licences and packages), invoices and billing runs."""

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import optional, person
from ordering.models import AccessOrder, Customer, IntegrationPackage, Interface, order_reference
from ordering.validators import validate_single_line_text


def _money(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


# Invoice and fee texts are composed by our code from bounded parts (catalogue names of up to 200
# characters, an adjustment reason of up to 300, a consulting description of up to 200): room for the
# longest of them, so no bounded input can make activation or a billing run fail.
DESCRIPTION_MAX_LENGTH = 1000

# An adjustment is at most a million kroner either way, in øre: far above any real discount on these
# prices, far below what a mistyped or hostile number would do to a quote.
ADJUSTMENT_LIMIT = Decimal("1000000.00")
# Consulting is recorded in quarter hours, at most 1000 hours (half a working year) at a time.
CONSULTING_HOURS_MIN, CONSULTING_HOURS_MAX = Decimal("0.25"), Decimal("1000")


class PriceList(models.Model):
    """Prices excl. VAT in DKK. Versioned by effective date; once used, never edited again."""

    name = models.CharField(_("name"), max_length=100)
    effective_from = models.DateField(_("effective from"), unique=True)
    is_example = models.BooleanField(
        _("example prices"), default=False, help_text=_("Demo prices, not KMD's real prices.")
    )
    vat_rate = models.DecimalField(_("VAT rate"), max_digits=5, decimal_places=4, default=Decimal("0.25"))
    setup_fee = _money(_("setup fee per external system"))
    startup_package_price = _money(_("startup package"))
    consulting_hourly_rate = _money(_("consulting hourly rate (senior consultant)"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-effective_from"]
        verbose_name = _("price list")
        verbose_name_plural = _("price lists")

    def __str__(self) -> str:
        return f"{self.name} ({self.effective_from:%d.%m.%Y})"

    def save(self, *args, **kwargs):
        if self.pk and self.is_used:
            raise ValidationError(_("This price list has been used and cannot be changed. Create a new one."))
        super().save(*args, **kwargs)

    @property
    def is_used(self) -> bool:
        if not self.pk:
            return False
        return self.addenda.exists() or self.charges.exists()


class _PriceListPart(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.price_list.is_used:
            raise ValidationError(_("This price list has been used and cannot be changed. Create a new one."))
        super().save(*args, **kwargs)


class InterfacePrice(_PriceListPart):
    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="interface_prices"
    )
    interface = models.ForeignKey(
        Interface, on_delete=models.PROTECT, limit_choices_to={"kind": "web_service"}, verbose_name=_("interface")
    )
    licence_start_fee = _money(_("licence start fee"))
    monthly_fee = _money(_("monthly fee"))
    additional_system_fee = _money(_("additional-system fee"))

    class Meta:
        verbose_name = _("interface price")
        verbose_name_plural = _("interface prices")
        constraints = [models.UniqueConstraint(fields=["price_list", "interface"], name="interface_price_once")]

    def __str__(self) -> str:
        return f"{self.interface} ({self.price_list})"


class PackagePrice(_PriceListPart):
    price_list = models.ForeignKey(
        PriceList, verbose_name=_("price list"), on_delete=models.CASCADE, related_name="package_prices"
    )
    package = models.ForeignKey(IntegrationPackage, on_delete=models.PROTECT, verbose_name=_("integration package"))
    monthly_fee = _money(_("monthly fee"))

    class Meta:
        verbose_name = _("package price")
        verbose_name_plural = _("package prices")
        constraints = [models.UniqueConstraint(fields=["price_list", "package"], name="package_price_once")]

    def __str__(self) -> str:
        return f"{self.package} ({self.price_list})"


class QuoteAdjustment(models.Model):
    """A discount or adjustment the account manager adds before issuing the addendum."""

    AMOUNT_LIMIT = ADJUSTMENT_LIMIT

    class Kind(models.TextChoices):
        ONE_TIME = "one_time", _("One-time")
        MONTHLY = "monthly", _("Monthly")

    order = models.ForeignKey(
        AccessOrder, verbose_name=_("order"), on_delete=models.CASCADE, related_name="quote_adjustments"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount = _money(_("amount (negative for a discount)"))
    reason = models.CharField(_("reason"), max_length=300, validators=[validate_single_line_text])
    created_by = person(_("created by"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("quote adjustment")
        verbose_name_plural = _("quote adjustments")
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=-ADJUSTMENT_LIMIT, amount__lte=ADJUSTMENT_LIMIT),
                name="quote_adjustment_within_limit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order.reference}: {self.amount} ({self.reason})"


class RecurringFee(models.Model):
    """A monthly fee from activation to closure: an interface licence, a package, or an adjustment.

    A licence belongs to the customer (one licence serves all its systems); package and adjustment
    fees belong to the order that started them.
    """

    class Kind(models.TextChoices):
        LICENCE = "licence", _("Interface licence")
        PACKAGE = "package", _("Integration package")
        ADJUSTMENT = "adjustment", _("Agreed adjustment")

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="recurring_fees"
    )
    order = models.ForeignKey(
        AccessOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="recurring_fees"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    interface = optional(Interface, _("interface"))
    package = optional(IntegrationPackage, _("integration package"))
    description_da = models.CharField(_("description (Danish)"), max_length=DESCRIPTION_MAX_LENGTH)
    description_en = models.CharField(_("description (English)"), max_length=DESCRIPTION_MAX_LENGTH)
    monthly_fee = _money(_("monthly fee"))
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until (not included)"), null=True, blank=True)
    ended_by = person(_("ended by"), optional=True)
    # How far the fee has been invoiced: the day after the last day billed (not included, like ends_on),
    # so a billing run reads only fees with days left to bill and bills only the months after it. Ahead
    # of ends_on means the fee was ended after those days were billed: the next run credits them.
    billed_until = models.DateField(_("billed until"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["customer", "starts_on", "pk"]
        verbose_name = _("recurring fee")
        verbose_name_plural = _("recurring fees")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="licence", interface__isnull=False) | ~Q(kind="licence"),
                name="licence_names_interface",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")), name="fee_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return self.description_da

    def save(self, *args, **kwargs):
        # Only the billing run moves billed_until (with an UPDATE): a fee read before a run and saved
        # after it must not set the mark back, or the months billed meanwhile would be billed again.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name != "billed_until"
            ]
        super().save(*args, **kwargs)


class Charge(models.Model):
    """A one-time amount to invoice: from the frozen quote at activation, or consulting hours."""

    HOURS_MIN, HOURS_MAX, HOURS_STEP = CONSULTING_HOURS_MIN, CONSULTING_HOURS_MAX, Decimal("0.25")
    # What the account manager writes about the work; it is printed on the invoice line.
    CONSULTING_DESCRIPTION_MAX_LENGTH = 200

    class Kind(models.TextChoices):
        ONE_TIME = "one_time", _("One-time fee")
        CONSULTING = "consulting", _("Consulting")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="charges")
    order = optional(AccessOrder, _("order"), related_name="charges")
    price_list = optional(PriceList, _("price list"), related_name="charges")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    rule = models.CharField(_("price rule"), max_length=40)
    description_da = models.CharField(_("description (Danish)"), max_length=DESCRIPTION_MAX_LENGTH)
    description_en = models.CharField(_("description (English)"), max_length=DESCRIPTION_MAX_LENGTH)
    hours = models.DecimalField(_("hours"), max_digits=7, decimal_places=2, null=True, blank=True)
    hourly_rate = _money(_("hourly rate"), null=True, blank=True)
    amount = _money(_("amount"))
    booked_on = models.DateField(_("date"))
    recorded_by = person(_("recorded by"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["booked_on", "pk"]
        verbose_name = _("charge")
        verbose_name_plural = _("charges")
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__isnull=True) | Q(hours__gte=CONSULTING_HOURS_MIN, hours__lte=CONSULTING_HOURS_MAX),
                name="charge_hours_within_limit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.description_da}: {self.amount}"


class SharedFee(models.Model):
    """A one-time fee due once for the customer however many orders need it (billing/pricing.py, "Fees due once").

    `key` names what it pays for: an interface's licence, an external system's setup, or one more system
    under a contract that names its systems. The order whose addendum first priced it pays it; while its
    charge is not booked it is pending, and it moves to the next order that names it should that order end
    before its access is established. At most one pending fee per customer and key.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="shared_fees"
    )
    key = models.CharField(_("what it pays for"), max_length=100)
    order = models.ForeignKey(
        AccessOrder, verbose_name=_("paid with order"), on_delete=models.PROTECT, related_name="shared_fees"
    )
    # The order it moved from, when the first order ended before its access was established.
    moved_from = optional(AccessOrder, _("moved from order"), related_name="+")
    charge = optional(Charge, _("charge"), related_name="shared_fee", one_to_one=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["customer", "key", "pk"]
        verbose_name = _("fee due once")
        verbose_name_plural = _("fees due once")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "key"], condition=Q(charge__isnull=True), name="one_pending_shared_fee"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.order.reference})"

    @property
    def is_pending(self) -> bool:
        return self.charge_id is None

    @property
    def moved_from_reference(self) -> str:
        """The reference of the order it moved from (the order page says so), without reading that order."""
        return order_reference(self.moved_from_id) if self.moved_from_id else ""


class StartupPackage(models.Model):
    """What the customer has used of the startup package bought with an order."""

    # What the package includes (the order form and the quote describe it; the order page counts against it).
    # Its 6 months of test access are ordering.models.TestAccess, with their own end date.
    MEETINGS_INCLUDED = 3
    QA_HOURS_INCLUDED = Decimal("4")
    # What one recording may add, and the most the package can ever show as used: far beyond what it
    # includes (help beyond that is billed as consulting), and within what the columns hold.
    MEETINGS_PER_ENTRY_MAX = 10
    QA_HOURS_PER_ENTRY_MAX = Decimal("100")
    QA_HOURS_STEP = Decimal("0.25")
    MEETINGS_USED_MAX = 100
    QA_HOURS_USED_MAX = Decimal("500")

    order = models.OneToOneField(
        AccessOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="startup_package_usage"
    )
    meetings_used = models.PositiveSmallIntegerField(_("meetings used"), default=0)
    qa_hours_used = models.DecimalField(_("Q&A hours used"), max_digits=5, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name = _("startup package")
        verbose_name_plural = _("startup packages")

    def __str__(self) -> str:
        return f"{self.order.reference}: {self.meetings_used} meetings, {self.qa_hours_used} h"

    @property
    def meetings_exceeded(self) -> bool:
        return self.meetings_used > self.MEETINGS_INCLUDED

    @property
    def qa_hours_exceeded(self) -> bool:
        return self.qa_hours_used > self.QA_HOURS_INCLUDED


class BillingRun(models.Model):
    period = models.DateField(_("period"), unique=True)  # first day of the month
    first_run_at = models.DateTimeField(_("first run"), default=timezone.now)
    last_run_at = models.DateTimeField(_("last run"), default=timezone.now)
    runs = models.PositiveIntegerField(_("number of runs"), default=1)

    class Meta:
        verbose_name = _("billing run")
        verbose_name_plural = _("billing runs")
        ordering = ["-period"]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m}"


def payment_terms_days_now() -> int:
    """The payment terms in force: days net from the invoice date (settings.INVOICE_PAYMENT_TERMS_DAYS)."""
    return settings.INVOICE_PAYMENT_TERMS_DAYS


def due_date_now() -> datetime.date:
    """The due date of an invoice dated today under the terms in force."""
    return timezone.localdate() + datetime.timedelta(days=payment_terms_days_now())


class Invoice(models.Model):
    """One customer's invoice for one month. Final when made: corrections go on a later invoice."""

    run = models.ForeignKey(
        BillingRun, verbose_name=_("billing run"), on_delete=models.PROTECT, related_name="invoices"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="invoices"
    )
    period = models.DateField(_("period"))
    number = models.CharField(_("invoice number"), max_length=20, unique=True)
    customer_name = models.CharField(_("customer name"), max_length=200)
    cvr = models.CharField(_("CVR number"), max_length=8)
    ean = models.CharField(_("EAN number"), max_length=13)
    reference_person = models.CharField(_("reference person"), max_length=200, blank=True)
    total_excl_vat = _money(_("total excl. VAT"))
    vat = _money(_("VAT"))
    total_incl_vat = _money(_("total incl. VAT"))
    # The invoice date, and the payment terms in force that day with the due date they give: kept on the
    # invoice, so a later change of the terms (settings.INVOICE_PAYMENT_TERMS_DAYS) never changes a sent invoice.
    issued_on = models.DateField(_("invoice date"), default=timezone.localdate)
    payment_terms_days = models.PositiveSmallIntegerField(_("payment terms (days net)"), default=payment_terms_days_now)
    due_on = models.DateField(_("due date"), default=due_date_now)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-period", "customer_name"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        constraints = [models.UniqueConstraint(fields=["customer", "period"], name="one_invoice_per_customer_month")]
        # The invoice list's order: a page is read from it instead of sorting every invoice of every month.
        indexes = [models.Index(fields=["-period", "customer_name"], name="invoice_newest_first")]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError("A final invoice cannot be changed; corrections go on a later invoice.")
        super().save(*args, **kwargs)


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        RECURRING = "recurring", _("Monthly fee")
        ONE_TIME = "one_time", _("One-time fee")
        CONSULTING = "consulting", _("Consulting")
        CORRECTION = "correction", _("Correction")

    invoice = models.ForeignKey(Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="lines")
    # What the line bills, once: a charge, or a recurring fee for a month. Unique, so nothing is billed twice.
    source_key = models.CharField(_("source key"), max_length=80, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    order = optional(AccessOrder, _("order"), related_name="+")
    requisition_number = models.CharField(_("requisition number"), max_length=40, blank=True)
    charge = optional(Charge, _("charge"), related_name="invoice_line", one_to_one=True)
    recurring_fee = optional(RecurringFee, _("recurring fee"), related_name="invoice_lines")
    corrects = optional("self", _("corrects line"), related_name="correction", one_to_one=True)
    service_month = models.DateField(_("service month"), null=True, blank=True)
    days = models.PositiveSmallIntegerField(_("days"), null=True, blank=True)
    days_in_month = models.PositiveSmallIntegerField(_("days in the month"), null=True, blank=True)
    description_da = models.CharField(_("description (Danish)"), max_length=DESCRIPTION_MAX_LENGTH)
    description_en = models.CharField(_("description (English)"), max_length=DESCRIPTION_MAX_LENGTH)
    amount = _money(_("amount"))

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ["invoice", "pk"]

    def __str__(self) -> str:
        return f"{self.source_key}: {self.amount}"

    @property
    def order_reference(self) -> str:
        """The number of the order the line bills (OA-000042), or "" for a line of no order; no query."""
        return order_reference(self.order_id) if self.order_id else ""
