"""The account manager's money forms: amounts, hours and texts are checked before a service sees them.

The bounds live on the models; the services check them again for callers that skip the forms. The order
page renders these forms field by field (templates/billing/_money_section.html, core/templatetags/form_field.py).
"""

import datetime
import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ordering.validators import typed_text_field, validate_single_line_text

from . import pricing
from .models import Charge, QuoteAdjustment, StartupPackage

# Every way a number can be out of bounds: one message, naming the bounds, replaces Django's several.
_OUT_OF_BOUNDS = (
    "invalid",
    "max_value",
    "min_value",
    "max_digits",
    "max_decimal_places",
    "max_whole_digits",
    "step_size",
)


def normalise_number(text: str) -> str:
    """A number as Danish or English users write it, in Python's notation.

    "2,5" and "2.5" are 2.5; "-1.250,50" is -1250.50; "1 250,50" too. With a comma, the comma is the
    decimal mark and dots group thousands. Without one, several dots group thousands ("1.250.000"), and
    so does a single dot followed by exactly three digits after a non-zero lead ("1.250" is 1250 in
    Danish; "0.250" stays a quarter). Anything else is left for Decimal to refuse.
    """
    value = text.strip().replace("\u2212", "-")
    for space in (" ", "\u00a0", "\u202f"):
        value = value.replace(space, "")
    if value.count(",") == 1:
        whole, decimals = value.split(",")
        return f"{whole.replace('.', '')}.{decimals}"
    if value.count(".") > 1 or re.fullmatch(r"[-+]?[1-9]\d{0,2}\.\d{3}", value):
        return value.replace(".", "")
    return value


class LocalDecimalField(forms.DecimalField):
    """A DecimalField that reads "2,5" as well as "2.5", whatever the page's language."""

    widget = forms.TextInput(attrs={"inputmode": "decimal"})

    def widget_attrs(self, widget) -> dict:
        """The longest number it takes, written the Danish way: a sign, the digits, a decimal comma and a
        thousands separator per three whole digits (e.g. "-9.999.999.999,99")."""
        attrs = super().widget_attrs(widget)
        if self.max_digits is not None:
            whole = self.max_digits - (self.decimal_places or 0)
            attrs["maxlength"] = str(self.max_digits + 2 + max(whole - 1, 0) // 3)
        return attrs

    def to_python(self, value):
        if isinstance(value, str):
            value = normalise_number(value)
        return super().to_python(value)

    def validate(self, value) -> None:
        super().validate(value)
        # Out of range stops here: Django's step check turns the number into a float, and 9E+999 into inf.
        too_low = self.min_value is not None and value is not None and value < self.min_value
        if too_low or (self.max_value is not None and value is not None and value > self.max_value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")

    def run_validators(self, value) -> None:
        # A 41-digit number breaks both the digit count and the maximum: say it once.
        try:
            super().run_validators(value)
        except ValidationError as error:
            raise ValidationError(list(dict.fromkeys(error.messages))) from None


class DateInput(forms.DateInput):
    """The browser's date picker; it sends the ISO date, which every language's input formats accept."""

    input_type = "date"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


def _bounded(field: forms.Field, message: str) -> None:
    field.error_messages.update(dict.fromkeys(_OUT_OF_BOUNDS, message))


def _number(value: Decimal) -> str:
    return formats.number_format(value, use_l10n=True)


class OrderPageForm(forms.Form):
    """A form of the order page's money section. Several forms share that page, so each has ids of its own
    (`id_prefix`), whether it is shown empty or again with what was typed."""

    id_prefix = ""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}-%s")
        super().__init__(*args, **kwargs)


class QuoteAdjustmentForm(OrderPageForm):
    id_prefix = "adj"

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=QuoteAdjustment.Kind.choices,
        error_messages={"required": _("Choose whether the adjustment is one-time or monthly.")},
    )
    amount = LocalDecimalField(
        label=_("Amount"),
        max_digits=12,
        decimal_places=2,
        min_value=-QuoteAdjustment.AMOUNT_LIMIT,
        max_value=QuoteAdjustment.AMOUNT_LIMIT,
        help_text=_("Excl. VAT; negative for a discount."),
        error_messages={"required": _("Enter the amount of the adjustment in kroner.")},
    )
    reason = typed_text_field(
        QuoteAdjustment,
        "reason",
        _("Reason"),
        help_text=_("The customer sees it in the quote."),
        error_messages={"required": _("Write the reason for the adjustment; the customer sees it in the quote.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        limit = QuoteAdjustment.AMOUNT_LIMIT
        _bounded(
            self.fields["amount"],
            gettext("Write the amount in kroner and øre, from %(min)s to %(max)s, e.g. -2500 or 1.250,50.")
            % {"min": pricing.kroner(-limit), "max": pricing.kroner(limit)},
        )


class ConsultingForm(OrderPageForm):
    id_prefix = "co"

    on = forms.DateField(
        label=_("Date"), widget=DateInput, error_messages={"required": _("Enter the date the consulting was given.")}
    )
    hours = LocalDecimalField(
        label=_("Hours"),
        max_digits=7,
        decimal_places=2,
        min_value=Charge.HOURS_MIN,
        max_value=Charge.HOURS_MAX,
        step_size=Charge.HOURS_STEP,
        error_messages={"required": _("Enter the hours spent.")},
    )
    description = forms.CharField(
        label=_("What was done"),
        max_length=Charge.CONSULTING_DESCRIPTION_MAX_LENGTH,
        validators=[validate_single_line_text],
        help_text=_("Shown on the invoice."),
        error_messages={"required": _("Write what was done; it is shown on the invoice.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        bounds = {"min": _number(Charge.HOURS_MIN), "max": _number(Charge.HOURS_MAX)}
        _bounded(
            self.fields["hours"],
            gettext("Write the hours in quarter hours, from %(min)s to %(max)s, e.g. 2,5.") % bounds,
        )
        self.fields["hours"].help_text = gettext("In quarter hours, from %(min)s to %(max)s.") % bounds


class StartupUsageForm(OrderPageForm):
    id_prefix = "su"

    meetings = forms.IntegerField(
        label=_("Meetings held"), required=False, min_value=0, max_value=StartupPackage.MEETINGS_PER_ENTRY_MAX
    )
    qa_hours = LocalDecimalField(
        label=_("Q&A hours spent"),
        required=False,
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=StartupPackage.QA_HOURS_PER_ENTRY_MAX,
        step_size=StartupPackage.QA_HOURS_STEP,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _bounded(
            self.fields["meetings"],
            gettext("Write the meetings as a whole number from 0 to %(max)s.")
            % {"max": StartupPackage.MEETINGS_PER_ENTRY_MAX},
        )
        _bounded(
            self.fields["qa_hours"],
            gettext("Write the hours in quarter hours, from %(min)s to %(max)s, e.g. 2,5.")
            % {"min": _number(Decimal("0")), "max": _number(StartupPackage.QA_HOURS_PER_ENTRY_MAX)},
        )

    def clean_meetings(self) -> int:
        return self.cleaned_data.get("meetings") or 0

    def clean_qa_hours(self) -> Decimal:
        return self.cleaned_data.get("qa_hours") or Decimal("0")


# --- The billing page: which month to preview, which month to bill ------------------------------------------

# The months the billing page offers: this month and the year before it. A month further back was billed on its
# 1st (billing/tasks.py) or can still be billed with `manage.py run_billing`.
BILLING_MONTHS_BACK = 12


def billing_months(today: datetime.date) -> list[datetime.date]:
    """The first days of this month and the BILLING_MONTHS_BACK months before it, newest first."""
    months, month = [], today.replace(day=1)
    for _i in range(BILLING_MONTHS_BACK + 1):
        months.append(month)
        month = (month - datetime.timedelta(days=1)).replace(day=1)
    return months


class BillingMonthForm(forms.Form):
    """A month of billing_months(): to preview (GET) or to bill (POST). The run itself says whether the month has
    ended (billing.services.billing_run_refusal), so a month not ended is refused by the run's own sentence."""

    period = forms.TypedChoiceField(
        label=_("Month"),
        coerce=lambda value: _month_of(value),
        error_messages={"required": _("Choose the month to bill.")},
    )

    def __init__(self, *args, today: datetime.date, label=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [
            (f"{month:%Y-%m}", formats.date_format(month, "YEAR_MONTH_FORMAT")) for month in billing_months(today)
        ]
        self.fields["period"].error_messages["invalid_choice"] = _(
            "Choose a month from the list: this month or one of the %(months)s before it."
        ) % {"months": BILLING_MONTHS_BACK}
        if label is not None:
            self.fields["period"].label = label


def _month_of(value: str) -> datetime.date:
    return datetime.datetime.strptime(value, "%Y-%m").date()
