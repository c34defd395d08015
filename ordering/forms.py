from django import forms
from django.utils.translation import gettext_lazy as _

from .models import TEXT_MAX_LENGTH, AccessOrder, Customer, ExternalSystem, IntegrationPackage, Interface, Vendor
from .selectors import active_accesses_of, live_accesses_of, systems_available_to
from .services import ORDER_FACT_FIELDS
from .transitions import DateInput
from .validators import typed_text_field, validate_multiline_text


def _none_or_one(label, queryset, help_text) -> forms.ModelChoiceField:
    """An optional reference in the order form, "None" first."""
    return forms.ModelChoiceField(
        label=label, queryset=queryset, required=False, empty_label=_("None"), help_text=help_text
    )


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
    replaces_file_interface = _none_or_one(
        _("File interface being replaced"),
        Interface.objects.filter(kind=Interface.Kind.FILE),
        _("Only when the order replaces a file interface being phased out."),
    )
    # The customer's own accesses, set in __init__.
    changes_order = _none_or_one(
        _("Existing access to change"),
        AccessOrder.objects.none(),
        _("Only for a change: the active access this order changes."),
    )
    replaces_order = _none_or_one(
        _("Access this system replaces"),
        AccessOrder.objects.none(),
        _("When the system replaces another system: its access closes the day this one is established."),
    )
    startup_package = forms.BooleanField(
        label=_("Add the startup package (recommended for individual integration)"),
        required=False,
        help_text=_("6 months of test-environment access, up to 3 online meetings and up to 4 hours of Q&A."),
    )
    vendor_agreement_confirmed = forms.BooleanField(
        label=_("We have agreed this integration with the system's vendor"),
        required=False,
        # The source: KMD has not "gennemgået, testet eller indestår for leverandørens integration og anvendelse.
        # Derfor bør I som kunde altid føre en dialog med leverandøren om dette og sikre jer, at I forstår, hvad
        # integrationen … resulterer i forretningsmæssigt." The form shows it beside the box (order_form.html).
        help_text=_(
            "You have two suppliers, KMD and the vendor, and need an agreement with both: do not start before you "
            "have agreed the integration with the vendor. KMD has not reviewed or tested the vendor's integration "
            "and does not vouch for it, not even for a standard integration. So always talk to the vendor about it, "
            "and make sure you understand what the integration results in for your business: what it creates, "
            "changes or reads in KMD Opus Personale. You confirm the agreement at the latest when you submit."
        ),
    )
    requisition_number = typed_text_field(AccessOrder, "requisition_number", _("Requisition number"), required=False)
    note = typed_text_field(AccessOrder, "note", _("Note to KMD"), multiline=True, required=False)

    def __init__(self, *args, customer: Customer, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        self.fields["external_system"].queryset = systems_available_to(customer).order_by("name")
        self.fields["package"].queryset = IntegrationPackage.objects.select_related("external_system")
        self.fields["changes_order"].queryset = active_accesses_of(customer)
        self.fields["changes_order"].label_from_instance = lambda o: f"{o.reference} – {o.external_system.name}"
        self.fields["replaces_order"].queryset = live_accesses_of(customer)
        self.fields["replaces_order"].label_from_instance = lambda o: (
            f"{o.reference} – {o.external_system.name} ({o.get_environment_display()})"
        )
        # Required or not depending on other answers; the services say which, so no "(optional)" on them.
        for name in ("interfaces", "package", "replaces_file_interface", "changes_order", "replaces_order"):
            self.fields[name].conditional = True
        self._mark_standard_interfaces()

    def _answer(self, name: str) -> str:
        """An answer so far, as sent or as the form starts, as its string value ("" if none)."""
        if self.is_bound:
            return str(self.data.get(name) or "")
        value = self.initial.get(name, self.fields[name].initial)
        return str(getattr(value, "pk", value) or "")

    def _mark_standard_interfaces(self) -> None:
        system = self._answer("external_system")
        if not system.isdigit():
            return
        standard = set(
            self.fields["external_system"].queryset.filter(pk=system).values_list("standard_interfaces", flat=True)
        )
        suffix = _("standard for this system")
        self.fields["interfaces"].label_from_instance = lambda i: f"{i} ({suffix})" if i.pk in standard else str(i)

    def applicable_fields(self) -> dict[str, bool]:
        """Which of the conditional fields apply to the answers so far; the page shows only those.

        Before the orderer has chosen, both purchase models' fields are shown, so the form works without
        JavaScript as well: what does not apply is cleared by the services' rules anyway.
        """
        model = self._answer("purchase_model")
        reason = self._answer("reason")
        return {
            "interfaces": model != AccessOrder.PurchaseModel.PACKAGE,
            "package": model != AccessOrder.PurchaseModel.SINGLE,
            "replaces_file_interface": reason == AccessOrder.Reason.PHASE_OUT,
            "changes_order": reason == AccessOrder.Reason.CHANGE,
        }

    def phase_out_chosen(self) -> bool:
        """The order replaces a file interface being phased out: the form then says what that asks of the customer."""
        return self._answer("reason") == AccessOrder.Reason.PHASE_OUT

    @classmethod
    def initial_from(cls, order: AccessOrder) -> dict:
        initial = {name: getattr(order, name) for name in ORDER_FACT_FIELDS}
        # A package order's own interfaces are the set frozen by its addendum, not the orderer's choice.
        initial["interfaces"] = list(order.interfaces.all()) if order.package_id is None else []
        initial["vendor_agreement_confirmed"] = order.vendor_agreement_confirmed_at is not None
        return initial

    @classmethod
    def copy_of(cls, order: AccessOrder) -> dict:
        """A new order's answers taken from another; the agreement with the vendor is confirmed anew."""
        return {**cls.initial_from(order), "vendor_agreement_confirmed": False}


class ExternalSystemForm(forms.Form):
    """A system the catalogue does not list, registered by the customer (ordering.services.external_system_register)."""

    name = typed_text_field(ExternalSystem, "name", _("Name of the system"))
    vendor_name = typed_text_field(Vendor, "name", _("Vendor"), help_text=_("The company that delivers the system."))
    vendor_cvr = forms.CharField(
        label=_("Vendor's CVR number"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("8 digits. It must match the organisation in the system's OCES3 certificate."),
    )
    vendor_email = forms.EmailField(
        label=_("Contact e-mail at the vendor"), required=False, help_text=_("Whom you tell when access is ready.")
    )
    category = forms.ChoiceField(label=_("Category"), choices=ExternalSystem.Category.choices)
    description = typed_text_field(
        ExternalSystem, "description", _("What the system does"), multiline=True, required=False
    )


class CustomerChoiceForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Order for"), queryset=None, empty_label=None)

    def __init__(self, *args, customers, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customers


class EmergencyClosureRequestForm(forms.Form):
    """The customer's request that support close the access at once (ordering.services.order_request_emergency_closure)."""

    reason = typed_text_field(
        AccessOrder,
        "emergency_request_reason",
        _("Why must the access be closed at once?"),
        multiline=True,
        help_text=_("For example a security breach at the vendor. Support read it before they close the access."),
    )

    def __init__(self, *args, **kwargs) -> None:
        # Ids of its own: the order page shows several forms at once.
        super().__init__(*args, auto_id="emergency-request-%s", **kwargs)


class TestAccessExtendForm(forms.Form):
    """The account manager's new end date for a running test access, and why."""

    __test__ = False

    until = forms.DateField(label=_("New end date"), widget=DateInput)
    reason = forms.CharField(
        label=_("Reason for the extension"),
        max_length=TEXT_MAX_LENGTH,
        validators=[validate_multiline_text],
        widget=forms.Textarea(attrs={"rows": 2}),
    )
