"""What the API shows and accepts. Output only reads what the pages read; input is checked by the
pages' own forms and services (api/views.py), so these serializers add no rule of their own."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import get_language
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import AuditEvent
from billing.models import Invoice, InvoiceLine
from ordering.models import (
    AccessOrder,
    Addendum,
    ExternalSystem,
    IntegrationPackage,
    Interface,
    OrderMessage,
    OrderMessageAttachment,
    State,
)

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers: a larger number names nothing


def _language() -> str:
    return get_language() or "da"


# --- Catalogue --------------------------------------------------------------------------------


class InterfaceSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    documentation_url = serializers.URLField(read_only=True)
    replaced_by = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = Interface
        fields = [
            "id",
            "code",
            "name",
            "name_da",
            "name_en",
            "kind",
            "kind_label",
            "description",
            "data_categories",
            "documentation_url",
            "replaced_by",
        ]


class VendorSerializer(serializers.Serializer):
    name = serializers.CharField()
    cvr = serializers.CharField()


class ExternalSystemSerializer(serializers.ModelSerializer):
    vendor = VendorSerializer(read_only=True)
    category_label = serializers.CharField(source="get_category_display", read_only=True)
    standard_interfaces = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = ExternalSystem
        fields = [
            "id",
            "name",
            "vendor",
            "category",
            "category_label",
            "description",
            "is_standard",
            "standard_interfaces",
        ]


class PackageSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    interfaces = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)

    class Meta:
        model = IntegrationPackage
        fields = ["id", "code", "name", "external_system", "interfaces"]


# --- Orders -----------------------------------------------------------------------------------


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    cvr = serializers.CharField()


class SystemRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    vendor = serializers.CharField(source="vendor.name")


class OrderSerializer(serializers.ModelSerializer):
    """An order as the order list shows it."""

    reference = serializers.CharField(read_only=True)
    url = serializers.SerializerMethodField()
    customer = CustomerRefSerializer(read_only=True)
    external_system = SystemRefSerializer(read_only=True)
    package = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    interfaces = serializers.SerializerMethodField()
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    environment_label = serializers.CharField(source="get_environment_display", read_only=True)
    integration_type_label = serializers.CharField(source="get_integration_type_display", read_only=True)

    class Meta:
        model = AccessOrder
        fields = [
            "id",
            "reference",
            "url",
            "customer",
            "external_system",
            "purchase_model",
            "package",
            "interfaces",
            "environment",
            "environment_label",
            "reason",
            "integration_type",
            "integration_type_label",
            "state",
            "state_label",
            "requisition_number",
            "created_at",
            "updated_at",
            "submitted_at",
            "activated_on",
            "closed_on",
        ]

    def get_url(self, order: AccessOrder) -> str:
        return reverse("api:order", args=[order.pk])

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_interfaces(self, order: AccessOrder) -> list[str]:
        """The codes of the interfaces the system gets: the package's, or those picked one by one."""
        return [interface.code for interface in order.requested_interfaces()]


class EventSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    # As the order page shows it: what the app states (the dates decided) in the reader's language, then
    # what the person typed.
    comment = serializers.CharField(source="comment_for_reader")
    actor = serializers.SerializerMethodField()
    actor_role_label = serializers.CharField(source="get_actor_role_display")

    class Meta:
        model = AuditEvent
        fields = [
            "seq",
            "kind",
            "kind_label",
            "from_state",
            "to_state",
            "actor",
            "actor_kind",
            "actor_role",
            "actor_role_label",
            "created_at",
            "comment",
        ]

    def get_actor(self, event: AuditEvent) -> str:
        """The person, or "Opus Adgang, automatically" for a scheduled job (actor_kind "system")."""
        return event.actor_name


class AddendumSerializer(serializers.ModelSerializer):
    number = serializers.CharField(read_only=True)
    status_label = serializers.CharField(source="get_status_display")
    document_url = serializers.SerializerMethodField()
    accepted_url = serializers.SerializerMethodField()

    class Meta:
        model = Addendum
        fields = [
            "version",
            "number",
            "status",
            "status_label",
            "render_status",
            "issued_at",
            "decided_at",
            "pdf_sha256",
            "document_url",
            "accepted_url",
        ]

    def get_document_url(self, addendum: Addendum) -> str | None:
        if not addendum.pdf:
            return None
        return reverse("api:addendum_document", args=[addendum.order_id, addendum.version])

    def get_accepted_url(self, addendum: Addendum) -> str | None:
        if not addendum.final_pdf:
            return None
        return reverse("api:addendum_accepted", args=[addendum.order_id, addendum.version])


class QuoteLineSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="one_time or monthly")
    rule = serializers.CharField(help_text="The price rule the line comes from (a stable code).")
    interface = serializers.CharField()
    text = serializers.SerializerMethodField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)

    def get_text(self, line) -> str:
        return line.text(_language())


class TotalsSerializer(serializers.Serializer):
    excl_vat = serializers.DecimalField(max_digits=12, decimal_places=2)
    vat = serializers.DecimalField(max_digits=12, decimal_places=2)
    incl_vat = serializers.DecimalField(max_digits=12, decimal_places=2)


class QuoteSerializer(serializers.Serializer):
    frozen = serializers.BooleanField(help_text="Frozen when the addendum was issued; live while a draft or submitted.")
    price_list = serializers.CharField()
    vat_rate = serializers.DecimalField(max_digits=5, decimal_places=4)
    lines = QuoteLineSerializer(many=True)
    one_time = TotalsSerializer()
    monthly = TotalsSerializer()


class OrderDetailSerializer(OrderSerializer):
    """An order as its page shows it: the facts, the actions the user may take now, the quote and the history."""

    replaces_file_interface = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    changes_order = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    replaces_order = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    vendor_agreement_confirmed = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    quote = serializers.SerializerMethodField()
    addenda = AddendumSerializer(many=True, read_only=True)
    history = EventSerializer(many=True, read_only=True, source="api_events")

    class Meta(OrderSerializer.Meta):
        fields = [
            *OrderSerializer.Meta.fields,
            "replaces_file_interface",
            "changes_order",
            "replaces_order",
            "startup_package",
            "note",
            "vendor_agreement_confirmed",
            "closure_scheduled_on",
            "actions",
            "quote",
            "addenda",
            "history",
        ]

    def get_vendor_agreement_confirmed(self, order: AccessOrder) -> bool:
        return order.vendor_agreement_confirmed_at is not None

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_actions(self, order: AccessOrder) -> list[str]:
        """The lifecycle actions this user may take now (ordering/transitions.py), as the page offers them."""
        return list(self.context.get("actions", []))

    @extend_schema_field(QuoteSerializer(allow_null=True))
    def get_quote(self, order: AccessOrder) -> dict | None:
        quote = self.context.get("quote")
        if quote is None:
            return None
        return QuoteSerializer(
            {
                "frozen": self.context.get("quote_frozen", False),
                "price_list": quote.price_list,
                "vat_rate": quote.vat_rate,
                "lines": list(quote.lines),
                "one_time": quote.one_time,
                "monthly": quote.monthly,
            }
        ).data


# --- Order input ------------------------------------------------------------------------------


def _id(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


class OrderInputSerializer(serializers.Serializer):
    """A draft's facts, as the order form asks for them; ids name catalogue objects (GET /catalogue/…)."""

    customer = _id(required=False, help_text="The customer you order for; needed only when you order for several.")
    external_system = _id()
    purchase_model = serializers.ChoiceField(choices=AccessOrder.PurchaseModel.choices)
    interfaces = serializers.ListField(child=_id(), required=False, max_length=100)
    package = _id(required=False, allow_null=True)
    environment = serializers.ChoiceField(choices=AccessOrder.Environment.choices)
    reason = serializers.ChoiceField(choices=AccessOrder.Reason.choices, default=AccessOrder.Reason.NEW)
    replaces_file_interface = _id(required=False, allow_null=True)
    changes_order = _id(required=False, allow_null=True)
    replaces_order = _id(required=False, allow_null=True)
    startup_package = serializers.BooleanField(required=False, default=False)
    vendor_agreement_confirmed = serializers.BooleanField(required=False, default=False)
    requisition_number = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class OrderPatchSerializer(OrderInputSerializer):
    """Only the facts to change; the rest stay as the draft has them."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, partial=True, **kwargs)
        self.fields.pop("customer")


EXPECTED_STATE_HELP = (
    "The state you saw the order in; refused with 412 if it changed since. Leave it out to act on the order as it is."
)


class SubmitInputSerializer(serializers.Serializer):
    expected_state = serializers.ChoiceField(choices=State.choices, required=False, help_text=EXPECTED_STATE_HELP)
    vendor_agreement = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Confirms that the customer has agreed this integration with the system's vendor, "
        "unless the draft has confirmed it already.",
    )


class CommentInputSerializer(serializers.Serializer):
    expected_state = serializers.ChoiceField(choices=State.choices, required=False, help_text=EXPECTED_STATE_HELP)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class ActionInputSerializer(serializers.Serializer):
    """The fields of every action's form on the order page; each action reads those its form has."""

    expected_state = serializers.ChoiceField(choices=State.choices, required=False, help_text=EXPECTED_STATE_HELP)
    comment = serializers.CharField(
        required=False, allow_blank=True, max_length=10_000, help_text="The comment or reason the action asks for."
    )
    on = serializers.DateField(required=False, help_text="activate: established on; close, schedule_closure: ends on.")
    wished_on = serializers.DateField(required=False, allow_null=True, help_text="request_closure: the wished date.")
    vendor_agreement = serializers.BooleanField(required=False, help_text="submit: the agreement with the vendor.")
    confirm = serializers.BooleanField(
        required=False, help_text="accept, emergency_close: the statement the page asks to tick."
    )
    document_sha256 = serializers.CharField(
        required=False, max_length=64, help_text="accept: the SHA-256 of the addendum version read (`pdf_sha256`)."
    )
    signer_name = serializers.CharField(required=False, max_length=200, help_text="accept: your name.")
    signer_title = serializers.CharField(required=False, max_length=200, help_text="accept: your title.")
    end_licence = serializers.ListField(
        child=_id(), required=False, max_length=100, help_text="close: the licences that end with the access."
    )


class CertificateUploadInputSerializer(serializers.Serializer):
    bundle = serializers.FileField(help_text="A .zip with .pem/.crt/.cer files, or a single .pem file.")


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()


class CertificateUploadSerializer(serializers.Serializer):
    accepted = serializers.BooleanField()
    detail = serializers.CharField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField(help_text="Of the stored chain (PEM); empty when the chain was not accepted.")
    findings = FindingSerializer(many=True)


# --- Invoices ---------------------------------------------------------------------------------


class InvoiceLineSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    order = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()

    class Meta:
        model = InvoiceLine
        fields = [
            "kind",
            "kind_label",
            "order",
            "requisition_number",
            "service_month",
            "days",
            "days_in_month",
            "description",
            "amount",
        ]

    def get_order(self, line: InvoiceLine) -> str | None:
        return line.order.reference if line.order_id else None

    def get_description(self, line: InvoiceLine) -> str:
        return line.description_en if _language().startswith("en") else line.description_da


class OrderMessageAttachmentSerializer(serializers.ModelSerializer):
    """What the thread says of a file: its content is downloaded on the order page, never through the API."""

    class Meta:
        model = OrderMessageAttachment
        fields = ["id", "filename", "kind", "size", "sha256"]


class OrderMessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    side_label = serializers.CharField(source="get_side_display")
    attachments = OrderMessageAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = OrderMessage
        fields = ["id", "author", "side", "side_label", "created_at", "text", "attachments"]

    def get_author(self, message: OrderMessage) -> str:
        return message.author.get_full_name() or message.author.username


class InvoiceSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "url",
            "period",
            "customer_name",
            "cvr",
            "ean",
            "reference_person",
            "total_excl_vat",
            "vat",
            "total_incl_vat",
            "issued_on",
            "payment_terms_days",
            "due_on",
            "created_at",
        ]

    def get_url(self, invoice: Invoice) -> str:
        return reverse("api:invoice", args=[invoice.pk])


class InvoiceDetailSerializer(InvoiceSerializer):
    lines = InvoiceLineSerializer(many=True, read_only=True, source="api_lines")

    class Meta(InvoiceSerializer.Meta):
        fields = [*InvoiceSerializer.Meta.fields, "lines"]
