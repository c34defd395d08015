from functools import partial

from django import forms
from django.utils.translation import gettext_lazy as _

from core.prepared import Prepared, given, prepared_choices

from .models import TEXT_MAX_LENGTH, AccessOrder, Customer, ExternalSystem, IntegrationPackage, Interface, Vendor
from .selectors import active_accesses_of, live_accesses_of, systems_available_to
from .services import ORDER_FACT_FIELDS, order_facts_problems
from .transitions import DateInput
from .validators import typed_text_field, validate_multiline_text


class ReadOnceChoiceIterator(forms.models.ModelChoiceIterator):
    """The choices from the field's queryset as the form read it: Django's iterator reads them anew each time they
    are listed, and the order form lists the interfaces twice (their boxes, their documentation) and asks whether
    the customer has an access to replace before listing those. Validation still asks the database (clean)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


def _web_services():
    return Interface.objects.filter(kind=Interface.Kind.WEB_SERVICE)


def _file_interfaces():
    return Interface.objects.filter(kind=Interface.Kind.FILE)


def _systems(p):
    # The systems an order for the customer may name, by name; what follows from the one chosen is asked of these.
    return systems_available_to(p.customer).order_by("name")


# The customer's choices: each field's query set, built from p.customer, validates what is sent; the same builder,
# prepared, lists them (core.prepared.prepared_choices). So does the rest of what the form lists or asks on every
# draw and every live preview: compiled once per process.
_CUSTOMER_CHOICES = {
    "external_system": _systems,
    "changes_order": lambda p: active_accesses_of(p.customer),
    "replaces_order": lambda p: live_accesses_of(p.customer),
}
_PREPARED_CUSTOMER_CHOICES = {name: Prepared(build) for name, build in _CUSTOMER_CHOICES.items()}
_INTERFACES = Prepared(lambda p: _web_services())
_FILE_INTERFACES = Prepared(lambda p: _file_interfaces())
_PACKAGES = Prepared(lambda p: IntegrationPackage.objects.filter(external_system__in=_systems(p).filter(pk=p.system)))
_STANDARD_INTERFACES = Prepared(
    lambda p: _systems(p).filter(pk=p.system, is_standard=True).values_list("standard_interfaces", flat=True)
)


def _none_or_one(label, queryset, help_text) -> forms.ModelChoiceField:
    """An optional reference in the order form, "None" first."""
    return forms.ModelChoiceField(
        label=label, queryset=queryset, required=False, empty_label=_("None"), help_text=help_text
    )


class OrderForm(forms.Form):
    """The facts of a new or draft order. The rules are ordering.services' (order_facts_problems); clean() asks
    them too, so the form shows every problem at once and the preview refuses what saving would refuse."""

    # Each required field says what to do when it is left out, in the services' words (order_facts_problems).
    external_system = forms.ModelChoiceField(
        label=_("External system"),
        queryset=None,
        empty_label=_("Choose a system"),
        help_text=_("The system that should get access to KMD Opus Personale."),
        error_messages={"required": _("Choose an external system from the list.")},
    )
    purchase_model = forms.ChoiceField(
        label=_("Purchase model"),
        choices=AccessOrder.PurchaseModel.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose single purchase or integration package.")},
    )
    interfaces = forms.ModelMultipleChoiceField(
        label=_("Interfaces"),
        queryset=_web_services(),
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
        # Only the chosen system's packages are offered (__init__); another is refused in the rule's own words.
        error_messages={"invalid_choice": _("Choose one of the integration packages made for the chosen system.")},
    )
    environment = forms.ChoiceField(
        label=_("Environment"),
        choices=AccessOrder.Environment.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the production or the test environment.")},
    )
    reason = forms.ChoiceField(
        label=_("Reason"),
        choices=AccessOrder.Reason.choices,
        widget=forms.RadioSelect,
        initial="new",
        error_messages={"required": _("Choose why the access is ordered.")},
    )
    replaces_file_interface = _none_or_one(
        _("File interface being replaced"),
        _file_interfaces(),
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

    def __init__(self, *args, customer: Customer, prefill_standard: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.customer = customer
        chosen = given(customer=customer.pk)
        for name, build in _CUSTOMER_CHOICES.items():
            self.fields[name].queryset = build(chosen)
        # Packages belong to one system: only the chosen system's are offered (none before one is chosen).
        system = self._answer("external_system")
        self.fields["package"].queryset = (
            _PACKAGES.build(given(customer=customer.pk, system=int(system)))
            if system.isdigit()
            else IntegrationPackage.objects.none()
        )
        self.fields["changes_order"].label_from_instance = lambda o: f"{o.reference} – {o.external_system.name}"
        self.fields["replaces_order"].label_from_instance = lambda o: (
            f"{o.reference} – {o.external_system.name} ({o.get_environment_display()})"
        )
        # Required or not depending on other answers; the services say which, so no "(optional)" on them.
        for name in ("interfaces", "package", "replaces_file_interface", "changes_order", "replaces_order"):
            field = self.fields[name]
            field.conditional = True
            field.iterator = ReadOnceChoiceIterator
            field.widget.choices = field.choices  # the widget keeps the iterator made when the queryset was set
        for name, prepared in _PREPARED_CUSTOMER_CHOICES.items():
            prepared_choices(self.fields[name], partial(prepared.all, customer=customer.pk))
        prepared_choices(self.fields["interfaces"], _INTERFACES.all)
        prepared_choices(self.fields["replaces_file_interface"], _FILE_INTERFACES.all)
        if system.isdigit():
            prepared_choices(self.fields["package"], partial(_PACKAGES.all, customer=customer.pk, system=int(system)))
        self.standard_interface_ids = self._standard_interface_ids()
        self._mark_standard_interfaces()
        if prefill_standard:
            self._prefill_standard_interfaces()
        # What the answers were before the rules' errors were added (add_error drops a field from cleaned_data):
        # the preview quotes what the orderer sees ticked, not what is left after an error.
        self.answers: dict = {}

    def _answer(self, name: str) -> str:
        """An answer so far, as sent or as the form starts, as its string value ("" if none)."""
        if self.is_bound:
            return str(self.data.get(name) or "")
        value = self.initial.get(name, self.fields[name].initial)
        return str(getattr(value, "pk", value) or "")

    def _standard_interface_ids(self) -> set[int]:
        """The interfaces KMD has agreed a standard integration of the chosen system for (none for other systems)."""
        system = self._answer("external_system")
        if not system.isdigit():
            return set()
        standard = _STANDARD_INTERFACES.all(customer=self.customer.pk, system=int(system))
        return {pk for pk in standard if pk is not None}

    def _mark_standard_interfaces(self) -> None:
        standard = self.standard_interface_ids
        suffix = _("standard for this system")
        self.fields["interfaces"].label_from_instance = lambda i: f"{i} ({suffix})" if i.pk in standard else str(i)

    def _prefill_standard_interfaces(self) -> None:
        """Tick the chosen standard system's standard interfaces when the system has just been chosen.

        The source: a standard system is connected "gennem en 'standardintegration'" on the interfaces KMD and
        the vendor agreed for it, so those are what an orderer of it normally buys one by one. The form sends
        `interfaces_for`, the system the boxes were last ticked for; only when the system differs from it, and
        the orderer has ticked nothing or only the previous system's standard set, are the boxes replaced –
        a choice of the orderer's own is never undone. Only a new form and the live preview ask for this (the
        boxes change in front of the orderer), never a save: what is saved is what the orderer sent.
        """
        if not self.standard_interface_ids or self._answer("purchase_model") == AccessOrder.PurchaseModel.PACKAGE:
            return
        if not self.is_bound:
            if not self.initial.get("interfaces"):
                standard = self.fields["interfaces"].queryset.filter(pk__in=self.standard_interface_ids)
                self.initial = {**self.initial, "interfaces": list(standard)}
            return
        system, previous = self._answer("external_system"), str(self.data.get("interfaces_for") or "")
        if system == previous:
            return
        ticked = set(self.data.getlist("interfaces"))
        previous_standard = set()
        if previous.isdigit():
            previous_system = self.fields["external_system"].queryset.filter(pk=previous, is_standard=True)
            previous_standard = {
                str(pk) for pk in previous_system.values_list("standard_interfaces", flat=True) if pk is not None
            }
        if ticked and ticked != previous_standard:
            return
        data = self.data.copy()
        data.setlist("interfaces", [str(pk) for pk in sorted(self.standard_interface_ids)])
        self.data = data

    def interfaces_chosen_for(self) -> str:
        """The system the interface boxes are ticked for, sent back as `interfaces_for` (_prefill_standard_interfaces)."""
        return self._answer("external_system")

    def clean(self) -> dict:
        """Every problem at once: the fields' own errors, then the rules saving applies to the rest."""
        data = super().clean()
        self.answers = dict(data)
        for name, message in order_facts_problems(customer=self.customer, facts=data).items():
            if name in self.fields and name in self.errors:
                continue  # the field's own error already says it
            self.add_error(name if name in self.fields else None, message)
        return data

    def problems_with_answers(self) -> list[str]:
        """The errors of the fields the orderer has answered, for the live preview: what saving would refuse in
        what was chosen (not what is still to be answered: the form asks for that when it is saved)."""
        if not self.is_bound or self.is_valid():
            return []
        values = self.data.getlist if hasattr(self.data, "getlist") else lambda name: [self.data.get(name)]
        return [
            message
            for name, messages in self.errors.items()
            if name in self.fields and any(values(name))
            for message in messages
        ]

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
            # One access control at a time: the access a change changes, or the one a new system replaces –
            # the latter only when the customer has a live access it could replace.
            "changes_order": reason == AccessOrder.Reason.CHANGE,
            # Read whole, not asked exists(): when there is one, the field lists them all from this read.
            "replaces_order": reason == AccessOrder.Reason.NEW and bool(self.fields["replaces_order"].prepared_rows()),
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

    name = typed_text_field(
        ExternalSystem,
        "name",
        _("Name of the system"),
        error_messages={"required": _("Enter the name of the system, as the vendor calls it.")},
    )
    vendor_name = typed_text_field(
        Vendor,
        "name",
        _("Vendor"),
        help_text=_("The company that delivers the system."),
        error_messages={"required": _("Enter the name of the company that delivers the system.")},
    )
    vendor_cvr = forms.CharField(
        label=_("Vendor's CVR number"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text=_("8 digits. It must match the organisation in the system's OCES3 certificate."),
        error_messages={"required": _("Enter the vendor's CVR number: 8 digits.")},
    )
    vendor_email = forms.EmailField(
        label=_("Contact e-mail at the vendor"), required=False, help_text=_("Whom you tell when access is ready.")
    )
    category = forms.ChoiceField(
        label=_("Category"),
        choices=ExternalSystem.Category.choices,
        error_messages={"required": _("Choose the category that fits the system best.")},
    )
    description = typed_text_field(
        ExternalSystem, "description", _("What the system does"), multiline=True, required=False
    )


class CustomerChoiceForm(forms.Form):
    customer = forms.ModelChoiceField(
        label=_("Order for"),
        queryset=None,
        empty_label=None,
        error_messages={"required": _("Choose the customer you order for.")},
    )

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
        error_messages={"required": _("Write why the access must be closed at once; support read it.")},
    )

    def __init__(self, *args, **kwargs) -> None:
        # Ids of its own: the order page shows several forms at once.
        super().__init__(*args, auto_id="emergency-request-%s", **kwargs)


class TestAccessExtendForm(forms.Form):
    """The account manager's new end date for a running test access, and why."""

    __test__ = False

    until = forms.DateField(
        label=_("New end date"),
        widget=DateInput,
        error_messages={"required": _("Enter the new last day of the test access.")},
    )
    reason = forms.CharField(
        label=_("Reason for the extension"),
        max_length=TEXT_MAX_LENGTH,
        validators=[validate_multiline_text],
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Write why the test access is extended.")},
    )
