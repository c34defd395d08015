from django import forms
from django.utils.translation import gettext_lazy as _

from .models import WebhookEndpoint


class CustomerEndpointForm(forms.Form):
    """A customer's own endpoint: where its system receives the webhooks, and a name for the customer's own use."""

    url = forms.URLField(
        label=_("The receiver's URL"),
        max_length=WebhookEndpoint._meta.get_field("url").max_length,
        assume_scheme="https",
        help_text=_(
            "The public https:// address where your system receives webhooks, e.g. https://itsm.example.dk/hooks."
        ),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=WebhookEndpoint._meta.get_field("description").max_length,
        required=False,
        help_text=_("For your own overview, e.g. the name of the system."),
    )
