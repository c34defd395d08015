"""The profile page's form: a personal API token's name, scopes and last day."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ApiToken
from .tokens import last_day_problem

DEFAULT_LIFETIME_DAYS = 90


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


def _default_last_day() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=DEFAULT_LIFETIME_DAYS)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=_("What the token is for, e.g. the program that uses it."),
        error_messages={"required": _("Give the token a name on one line.")},
    )
    scopes = forms.MultipleChoiceField(
        label=_("What the token may do"),
        choices=[(ApiToken.Scope.READ, ApiToken.Scope.READ.label), (ApiToken.Scope.ORDER, ApiToken.Scope.ORDER.label)],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one scope.")},
        help_text=_("The token can never do more than you can: it acts with your roles."),
    )
    last_day = forms.DateField(
        label=_("Valid until and including"),
        widget=DateInput(),
        initial=_default_last_day,
        help_text=_("At most a year from today."),
        error_messages={"required": _("Enter the last day the token may be used.")},
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name or any(ord(c) < 32 for c in name):
            raise forms.ValidationError(_("Give the token a name on one line."))
        return name

    def clean_last_day(self) -> datetime.date:
        last_day = self.cleaned_data["last_day"]
        problem = last_day_problem(last_day, timezone.localdate())
        if problem:
            raise forms.ValidationError(problem)
        return last_day
