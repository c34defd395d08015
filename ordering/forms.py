from django import forms
from django.utils.translation import gettext_lazy as _

from .models import AccessOrder, Customer, IntegrationPackage, Interface
from .selectors import active_accesses_of
from .services import ORDER_FACT_FIELDS, systems_available_to
from .validators import validate_multiline_text, validate_single_line_text


class OrderForm(forms.Form):
    """The facts of a new or draft order; the rules are checked by ordering.services."""

    external_system = forms.ModelChoiceField(
        label=_("External system"),
        queryset=None,
        empty_label=_("Choose a system"),
        help_text=_("The system that should get access to KMD Opus Personale."),
    )
    purchase_model = forms.ChoiceField(
        label=_("Purchase model"), choices=AccessOrder.PurchaseModel.choices, widget=forms.RadioSelect
    )
    interfaces = forms.ModelMultipleChoiceField(
        label=_("Interfaces"),
        queryset=Interface.objects.filter(kind=Interface.Kind.WEB_SERVICE),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("For a single purchase: the web services the system needs."),
    )
    package = forms.ModelChoiceField(
        label=_("Integration package"),
        queryset=None,
        required=False,
        empty_label=_("No package"),
        help_text=_("For an integration package: the package made for the chosen system."),
    )
    environment = forms.ChoiceField(
        label=_("Environment"), choices=AccessOrder.Environment.choices, widget=forms.RadioSelect
    )
    reason = forms.ChoiceField(
        label=_("Reason"), choices=AccessOrder.Reason.choices, widget=forms.RadioSelect, initial="new"
    )
    replaces_file_interface = forms.ModelChoiceField(
        label=_("File interface being replaced"),
        queryset=Interface.objects.filter(kind=Interface.Kind.FILE),
        required=False,
        help_text=_("Only when the order replaces a file interface being phased out."),
        empty_label=_("None"),
    )
    changes_order = forms.ModelChoiceField(
        label=_("Existing access to change"),
        queryset=AccessOrder.objects.none(),
        required=False,
        empty_label=_("None"),
        help_text=_("Only for a change: the active access this order changes."),
    )
    startup_package = forms.BooleanField(
        label=_("Add the startup package (recommended for individual integration)"),
        required=False,
        help_text=_("6 months of test-environment access, up to 3 online meetings and up to 4 hours of Q&A."),
    )
    requisition_number = forms.CharField(
        label=_("Requisition number"),
        max_length=AccessOrder._meta.get_field("requisition_number").max_length,
        required=False,
        validators=[validate_single_line_text],
    )
    note = forms.CharField(
        label=_("Note to KMD"),
        max_length=AccessOrder._meta.get_field("note").max_length,
        required=False,
        validators=[validate_multiline_text],
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["external_system"].queryset = systems_available_to(customer).order_by("name")
        self.fields["package"].queryset = IntegrationPackage.objects.select_related("external_system")
        self.fields["changes_order"].queryset = active_accesses_of(customer)
        self.fields["changes_order"].label_from_instance = lambda o: f"{o.reference} – {o.external_system.name}"
        # Required or not depending on other answers; the services say which, so no "(optional)" on them.
        for name in ("interfaces", "package", "replaces_file_interface", "changes_order"):
            self.fields[name].conditional = True

    @classmethod
    def initial_from(cls, order: AccessOrder) -> dict:
        initial = {name: getattr(order, name) for name in ORDER_FACT_FIELDS}
        initial["interfaces"] = list(order.interfaces.all())
        return initial


class CustomerChoiceForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Order for"), queryset=None, empty_label=None)

    def __init__(self, *args, customers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers
