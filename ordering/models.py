"""Catalogue, customers and contracts, and the access order with its lifecycle."""

import datetime
import uuid
from decimal import ROUND_UP, Decimal

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from audit.models import AuditEvent
from core.choices import ChoiceLabels
from core.fields import optional, person
from core.links import url_with_number
from core.prepared import Prepared

from .roles import Role, order_roles
from .validators import (
    validate_cvr,
    validate_documentation_path,
    validate_ean,
    validate_multiline_text,
    validate_single_line_text,
)

# How much people may type into a note, comment, reason or description. Forms and services read it
# from the field (`max_length`); the database enforces it with `text_fits` (a TextField's max_length
# alone is only a form hint). Single-line fields are CharFields, whose length PostgreSQL enforces.
TEXT_MAX_LENGTH = 2000


def text_fits(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=LessThanOrEqual(Length(field), TEXT_MAX_LENGTH), name=name)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# How the registers name the CPR number, in the reader's language, when an interface exposes it
# (Interface.cpr_numbers); the addendum, a Danish document, flags it in its own words.
CPR_CATEGORY = _("CPR number")
# A line that names no category but says "any of them" (Danish or English): the catalogue must name the actual ones.
_CATCH_ALL = ("alle kategorier", "all categories", "alle typer", "all kinds")


def validate_category_lines(value: str) -> None:
    """A category is named: never "may contain all categories", and never the CPR number, which has its box."""
    validate_multiline_text(value)
    for line in _lines(value):
        lowered = line.lower()
        if any(phrase in lowered for phrase in _CATCH_ALL):
            raise ValidationError(
                _("“%(line)s” names no category. Name the categories of personal data the interface actually exposes."),
                code="catch_all_category",
                params={"line": line},
            )
        if "cpr" in lowered:
            raise ValidationError(
                _("Tick “exposes CPR numbers” instead of writing “%(line)s”: the contract addendum flags CPR numbers."),
                code="cpr_as_category",
                params={"line": line},
            )


class BilingualName(models.Model):
    """Danish and English name; `name` follows the active language."""

    name_da = models.CharField(_("name (Danish)"), max_length=200, validators=[validate_single_line_text])
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True, validators=[validate_single_line_text])

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        if (get_language() or "da").startswith("en") and self.name_en:
            return self.name_en
        return self.name_da


# --- Catalogue ---------------------------------------------------------------------------------

# The page on the documentation site that lists Opus Personale's standard interfaces (the source's own link).
DOCUMENTATION_AREA = "/area/opus-personal-api"


class Interface(ChoiceLabels, BilingualName):
    class Kind(models.TextChoices):
        WEB_SERVICE = "web_service", _("Web service")
        FILE = "file", _("File interface (being phased out)")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.WEB_SERVICE)
    description_da = models.TextField(_("description (Danish)"), blank=True, max_length=TEXT_MAX_LENGTH)
    description_en = models.TextField(_("description (English)"), blank=True, max_length=TEXT_MAX_LENGTH)
    data_categories = models.TextField(
        _("personal-data categories"),
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        validators=[validate_category_lines],
        help_text=_(
            "One category per line, as the interface actually exposes it; printed in the contract addendum. "
            "Special categories and CPR numbers have fields of their own below."
        ),
    )
    # A data-processing instruction flags these as such: GDPR art. 9 and the Danish Data Protection Act § 11
    # set their own conditions, and a lawyer signing the addendum must see them, not find them in a list.
    special_categories = models.TextField(
        _("special categories of personal data"),
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        validators=[validate_category_lines],
        help_text=_(
            "Special categories (GDPR Article 9) the interface exposes, one per line, e.g. health data about "
            "sickness absence. Flagged as such in the contract addendum."
        ),
    )
    cpr_numbers = models.BooleanField(
        _("exposes CPR numbers"),
        default=False,
        help_text=_("Flagged as such in the contract addendum (Danish Data Protection Act, section 11)."),
    )
    # What a data-processing instruction must state; KMD maintains it per interface in the catalogue.
    processing_purpose = models.TextField(
        _("purpose of the processing (Danish)"),
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text=_("What the data is exchanged for; printed under “Formål” in the contract addendum."),
    )
    data_subjects = models.TextField(
        _("categories of data subjects"),
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text=_("One category per line, e.g. the customer's employees; printed in the contract addendum."),
    )
    documentation_path = models.CharField(
        _("documentation page"),
        max_length=200,
        blank=True,
        validators=[validate_documentation_path],
        help_text=_(
            "The interface's page on the documentation site, e.g. /area/opus-personal-api/opret-fravaer. "
            "Empty: the site's page on Opus Personale's standard interfaces."
        ),
    )
    # One web service per file interface: the source names one (IND01 → Engangsydelser), and with one the
    # rule "a phase-out order includes the replacing web service" needs no "all or any?" (ordering/services/).
    replaced_by = optional(
        "self",
        _("replaced by"),
        related_name="replaces",
        limit_choices_to={"kind": "web_service"},
        help_text=_("For a file interface being phased out: the web service that replaces it."),
    )

    class Meta:
        ordering = ["kind", "name_da"]
        verbose_name = _("interface")
        verbose_name_plural = _("interfaces")
        constraints = [
            models.CheckConstraint(
                condition=Q(replaced_by__isnull=True) | Q(kind="file"),
                name="only_file_interfaces_are_replaced",
            ),
            text_fits("description_da", "interface_description_da_fits"),
            text_fits("description_en", "interface_description_en_fits"),
            text_fits("data_categories", "interface_data_categories_fit"),
            text_fits("processing_purpose", "interface_processing_purpose_fits"),
            text_fits("data_subjects", "interface_data_subjects_fit"),
            text_fits("special_categories", "interface_special_categories_fit"),
        ]

    @property
    def description(self) -> str:
        if (get_language() or "da").startswith("en") and self.description_en:
            return self.description_en
        return self.description_da

    @property
    def documentation_url(self) -> str:
        """Where the vendor and the customer read how to use the interface (settings.OPUS_INTEGRATION_DOCS_URL)."""
        return settings.OPUS_INTEGRATION_DOCS_URL.rstrip("/") + (self.documentation_path or DOCUMENTATION_AREA)

    @property
    def ordinary_category_list(self) -> list[str]:
        """The categories that are neither special categories nor CPR numbers."""
        return _lines(self.data_categories)

    @property
    def special_category_list(self) -> list[str]:
        return _lines(self.special_categories)

    @property
    def data_category_list(self) -> list[str]:
        """Every category the interface exposes, the flagged ones included (the registers list them all)."""
        flagged = [*self.special_category_list, *([str(CPR_CATEGORY)] if self.cpr_numbers else [])]
        return list(dict.fromkeys([*self.ordinary_category_list, *flagged]))

    @property
    def addendum_gaps(self) -> list[str]:
        """What KMD's catalogue lacks for the interface to be put in a contract addendum (an instruction must
        state its purpose, its categories of personal data and of data subjects): "purpose", "categories",
        "subjects"."""
        gaps = []
        if not self.processing_purpose.strip():
            gaps.append("purpose")
        if not self.data_category_list:
            gaps.append("categories")
        if not self.data_subject_list:
            gaps.append("subjects")
        return gaps

    @property
    def data_subject_list(self) -> list[str]:
        return [line.strip() for line in self.data_subjects.splitlines() if line.strip()]


class Vendor(models.Model):
    """A vendor of external systems: in KMD's catalogue, or as a customer typed it for its own system.

    A customer's own vendor records are its own (visible only to it and KMD), so what one customer
    types never changes what another sees; KMD's catalogue holds each CVR once.
    """

    name = models.CharField(_("name"), max_length=200, validators=[validate_single_line_text])
    cvr = models.CharField(_("CVR number"), max_length=8, validators=[validate_cvr])
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    owner = optional(
        "Customer",
        _("registered by customer"),
        related_name="own_vendors",
        help_text=_(
            "Empty for vendors in KMD's catalogue; set for a vendor a customer registered with its own system."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        constraints = [
            models.UniqueConstraint(
                fields=["cvr"], condition=Q(owner__isnull=True), name="catalogue_vendor_cvr_unique"
            ),
            models.UniqueConstraint(
                fields=["owner", "cvr"], condition=Q(owner__isnull=False), name="own_vendor_cvr_unique_per_customer"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ExternalSystem(ChoiceLabels, models.Model):
    class Category(models.TextChoices):
        ROSTERING = "rostering", _("Rostering")
        CANTEEN = "canteen", _("Canteen")
        RECRUITMENT = "recruitment", _("Recruitment")
        TIME_REGISTRATION = "time_registration", _("Time registration")
        DAYCARE = "daycare", _("Day care")
        SCHOOL = "school", _("School / substitutes")
        PAYROLL = "payroll", _("Employee settlement")
        TECHNICAL_ENVIRONMENT = "technical_environment", _("Technical and environmental services")
        ORGANISATION = "organisation", _("Organisation management")
        SECURITY = "security", _("Security management")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200, validators=[validate_single_line_text])
    vendor = models.ForeignKey(Vendor, verbose_name=_("vendor"), on_delete=models.PROTECT, related_name="systems")
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    description = models.TextField(
        _("description"),
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        validators=[validate_multiline_text],
        help_text=_("What the system does and what it uses Opus Personale's data for."),
    )
    is_standard = models.BooleanField(
        _("standard system"),
        default=False,
        help_text=_("KMD and the vendor have agreed a standard integration (certificate already agreed)."),
    )
    owner = optional(
        "Customer",
        _("registered by customer"),
        related_name="own_systems",
        help_text=_("Empty for systems in KMD's catalogue; set for a customer's own system."),
    )
    standard_interfaces = models.ManyToManyField(
        Interface,
        verbose_name=_("interfaces covered by the standard integration"),
        blank=True,
        related_name="standard_systems",
        limit_choices_to={"kind": "web_service"},
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("external system")
        verbose_name_plural = _("external systems")
        constraints = [
            models.CheckConstraint(
                condition=Q(is_standard=False) | Q(owner__isnull=True),
                name="standard_systems_belong_to_the_catalogue",
            ),
            models.UniqueConstraint(
                fields=["owner", "name"], condition=Q(owner__isnull=False), name="own_system_name_unique_per_customer"
            ),
            text_fits("description", "system_description_fits"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.vendor.name})"


class IntegrationPackage(BilingualName):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    external_system = models.ForeignKey(
        ExternalSystem, verbose_name=_("external system"), on_delete=models.PROTECT, related_name="packages"
    )
    interfaces = models.ManyToManyField(
        Interface, verbose_name=_("interfaces"), related_name="packages", limit_choices_to={"kind": "web_service"}
    )
    description_da = models.TextField(_("description (Danish)"), blank=True, max_length=TEXT_MAX_LENGTH)

    class Meta:
        ordering = ["name_da"]
        verbose_name = _("integration package")
        verbose_name_plural = _("integration packages")
        constraints = [text_fits("description_da", "package_description_da_fits")]


# --- Customers and contracts -------------------------------------------------------------------


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200, validators=[validate_single_line_text])
    cvr = models.CharField(_("CVR number"), max_length=8, unique=True, validators=[validate_cvr])
    ean = models.CharField(_("EAN number"), max_length=13, validators=[validate_ean])
    invoice_reference_person = models.CharField(
        _("reference person for invoices"),
        max_length=200,
        blank=True,
        validators=[validate_single_line_text],
        help_text=_("Required on public e-invoices."),
    )
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        on_delete=models.PROTECT,
        related_name="managed_customers",
        limit_choices_to={"is_staff": True},
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        # Lists ordered by the customer's name (support's running accesses, the licences) read the customers in
        # that order and each one's orders from its own index, stopping at the page's end (an incremental sort),
        # instead of joining and sorting every order: support's first page at 10,000 orders 4.7 → 1.4 ms.
        indexes = [models.Index(fields=["name", "id"], name="customer_by_name")]

    def __str__(self) -> str:
        return self.name


class CustomerMembership(models.Model):
    """A customer employee's roles at that customer."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="memberships"
    )
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="memberships"
    )
    is_orderer = models.BooleanField(_("orderer"), default=False)
    is_signatory = models.BooleanField(
        _("signatory"), default=False, help_text=_("Allowed to bind the customer: accepts contract addenda.")
    )
    is_user_admin = models.BooleanField(
        _("user administrator"),
        default=False,
        help_text=_("Grants and removes the customer's roles and invites colleagues. KMD appoints the first one."),
    )

    class Meta:
        verbose_name = _("customer membership")
        verbose_name_plural = _("customer memberships")
        constraints = [
            models.UniqueConstraint(fields=["user", "customer"], name="one_membership_per_user_and_customer"),
            models.CheckConstraint(
                condition=Q(is_orderer=True) | Q(is_signatory=True) | Q(is_user_admin=True),
                name="membership_has_a_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.customer}"


class Invitation(models.Model):
    """A user administrator's invitation of a colleague by e-mail, with the roles it grants.

    The link in the e-mail is the invitation's id signed with the site's secret key (ordering/people.py), so
    no secret is stored. The invitation binds to the first MitID Erhverv login that uses it, for the
    invitation's customer (the login's CVR must be the customer's), once, before `expires_at`.
    """

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("e-mail address"))
    is_orderer = models.BooleanField(_("orderer"), default=False)
    is_signatory = models.BooleanField(_("signatory"), default=False)
    is_user_admin = models.BooleanField(_("user administrator"), default=False)
    created_by = person(_("invited by"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    used_by = person(_("used by"), optional=True, on_delete=models.SET_NULL)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_orderer=True) | Q(is_signatory=True) | Q(is_user_admin=True),
                name="invitation_grants_a_role",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} @ {self.customer}"

    def is_open(self, now=None) -> bool:
        """Not used, not revoked, and before `expires_at` (the instant it expires it is closed)."""
        return self.used_at is None and self.revoked_at is None and (now or timezone.now()) < self.expires_at


class MainContract(ChoiceLabels, models.Model):
    class Terms(models.TextChoices):
        STANDARD = "standard", _("Standard terms")
        TENDER = "tender", _("Tender (udbud)")

    class LicenceScope(models.TextChoices):
        ALL_SYSTEMS = "all", _("A licence serves all the customer's external systems")
        NAMED_SYSTEMS = "named", _("A licence serves the systems it is bought for; each further system pays a fee")

    class TestEnvironmentData(models.TextChoices):
        REAL = "real", _("Real personal data (for example a copy of production)")
        FICTITIOUS = "fictitious", _("Fictitious test data only")

    customer = models.OneToOneField(
        Customer, verbose_name=_("customer"), on_delete=models.CASCADE, related_name="contract"
    )
    reference = models.CharField(_("contract reference"), max_length=60, validators=[validate_single_line_text])
    terms = models.CharField(_("terms"), max_length=20, choices=Terms.choices, default=Terms.STANDARD)
    # The source: bought "på standardvilkår (dvs. ikke som led af eks. udbud)" a licence serves all the
    # customer's systems; a tender contract may say otherwise. The database holds standard terms to "all".
    licence_scope = models.CharField(
        _("licences bought later"),
        max_length=10,
        choices=LicenceScope.choices,
        default=LicenceScope.ALL_SYSTEMS,
        help_text=_(
            "Whom an interface licence bought through this app serves. Standard terms: always all systems; "
            "tender terms: as the contract says."
        ),
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    # The data-processing agreement the addenda's instructions add to, and which prevails over them: a lawyer
    # signing an addendum must know which one (its reference or version, and its date).
    dpa_reference = models.CharField(
        _("data-processing agreement"),
        max_length=120,
        blank=True,
        validators=[validate_single_line_text],
        help_text=_(
            "Reference or version of the customer's data-processing agreement with KMD, e.g. “DBA-2019-014, "
            "version 2”; printed in contract addenda."
        ),
    )
    dpa_dated = models.DateField(_("data-processing agreement dated"), null=True, blank=True)
    test_environment_data = models.CharField(
        _("data in the customer's test environment"),
        max_length=12,
        choices=TestEnvironmentData.choices,
        default=TestEnvironmentData.REAL,
        help_text=_(
            "Printed in addenda for the test environment. Keep “real personal data” unless it is certain that "
            "the test environment holds fictitious data only: the addendum then covers it as it covers production."
        ),
    )

    class Meta:
        verbose_name = _("main contract")
        verbose_name_plural = _("main contracts")
        constraints = [
            models.CheckConstraint(
                condition=Q(terms="tender") | Q(licence_scope="all"),
                name="standard_terms_licence_serves_all_systems",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reference} ({self.customer})"


class ContractInterface(models.Model):
    """An interface included in a main contract, for all external systems or only named ones."""

    class Coverage(models.TextChoices):
        ALL_SYSTEMS = "all", _("All external systems")
        NAMED_SYSTEMS = "named", _("Named systems only")

    contract = models.ForeignKey(
        MainContract, verbose_name=_("main contract"), on_delete=models.CASCADE, related_name="included_interfaces"
    )
    interface = models.ForeignKey(Interface, verbose_name=_("interface"), on_delete=models.PROTECT)
    coverage = models.CharField(_("coverage"), max_length=10, choices=Coverage.choices, default=Coverage.ALL_SYSTEMS)
    named_systems = models.ManyToManyField(ExternalSystem, verbose_name=_("named systems"), blank=True)

    class Meta:
        verbose_name = _("interface in contract")
        verbose_name_plural = _("interfaces in contract")
        constraints = [
            models.UniqueConstraint(fields=["contract", "interface"], name="interface_once_per_contract"),
        ]

    def __str__(self) -> str:
        return f"{self.interface} – {self.get_coverage_display()}"


# --- The access order --------------------------------------------------------------------------


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    AWAITING_SIGNATURE = "awaiting_signature", _("Awaiting signature")
    PROVISIONING = "provisioning", _("Access being established")
    ACTIVE = "active", _("Active")
    CLOSURE_REQUESTED = "closure_requested", _("Closure requested")
    CLOSED = "closed", _("Closed")
    EMERGENCY_CLOSED = "emergency_closed", _("Emergency-closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REJECTED = "rejected", _("Rejected")


# The lifecycle's state groups, one name per meaning (each call site says which it means; AccessOrderQuerySet
# offers the ones queried most). The access "runs" from activation (adgangen er etableret) to its closure.
OPEN_STATES = (
    State.SUBMITTED,
    State.AWAITING_SIGNATURE,
    State.PROVISIONING,
    State.ACTIVE,
    State.CLOSURE_REQUESTED,
)
"""Submitted and not ended: the order holds, or is on its way to holding, access for its system."""
ACCESS_AGREED_STATES = (State.PROVISIONING, State.ACTIVE, State.CLOSURE_REQUESTED)
"""The addendum is accepted and the access not ended: being set up (provisioning, no access yet) or running."""
ACCESS_RUNNING_STATES = (State.ACTIVE, State.CLOSURE_REQUESTED)
"""The access runs: the gateway lets the system in (registers/access.py), it is billed; a requested closure
leaves it running until KMD closes it. A provisioning order has no access yet."""
ESTABLISHED_STATES = (State.ACTIVE, State.CLOSURE_REQUESTED, State.CLOSED, State.EMERGENCY_CLOSED)
"""Running or ended by a closure: consulting and startup-package use can be recorded (an emergency closure may
have come before activation, so callers also ask `activated_on`)."""
CLOSED_STATES = (State.CLOSED, State.EMERGENCY_CLOSED)
"""Ended by a closure: by the account manager (on a date) or by support (at once)."""
ABANDONED_STATES = (State.WITHDRAWN, State.REJECTED)
"""Ended before any addendum was accepted: withdrawn by the customer or rejected by KMD."""
FINAL_STATES = CLOSED_STATES + ABANDONED_STATES
"""Ended, one way or another: nothing more happens to the order."""
CERTIFICATE_CHANGE_STATES = (State.DRAFT, State.ACTIVE)
"""The orderer may upload a new certificate chain: on a draft (it replaces the chain), or on an active access
(a rollover, confirmed by the account manager)."""
# A package order's interfaces are the package's as it is now only while no addendum binds the order: the
# orderer is still choosing (draft, submitted – again after a declined version), or the order ended before
# anything was accepted. From the issue of a contract addendum on they are the set printed in that version,
# frozen into the order's own `interfaces` (ordering.services._issue_new_version, again on each revision):
# what the signatory accepts, whatever a catalogue admin does to the package afterwards.
PACKAGE_READ_LIVE_STATES = (State.DRAFT, State.SUBMITTED, State.WITHDRAWN, State.REJECTED)


def order_reference(pk: int) -> str:
    """The number people quote for an order, e.g. OA-000042."""
    return f"OA-{pk:06d}"


def _requires(role: Role):
    def permission(order: "AccessOrder", user) -> bool:
        return role in order_roles(user, order)

    permission.role = role
    return permission


def _step(source: State | tuple[State, ...], target: State | None, role: Role):
    """Mark an AccessOrder method as a lifecycle transition of `state`: from `source` (one state, or a group of
    them) to `target` (None: the state stays), for whoever holds `role` towards the order.

    Every transition has exactly these three parts, so each reads as one line and the lifecycle as a table.
    The permission carries its role (`permission.role`), which tests/ordering/test_transitions.py checks
    against ordering/transitions.py. The field is named, not passed: django-fsm binds it when the class is ready.
    """
    return transition(field="state", source=source, target=target, permission=_requires(role))


class AccessOrderQuerySet(models.QuerySet):
    """The state groups above as queries: `AccessOrder.objects.access_running()` and so on."""

    def open(self) -> "AccessOrderQuerySet":
        """Submitted and not ended (OPEN_STATES)."""
        return self.filter(state__in=OPEN_STATES)

    def access_agreed(self) -> "AccessOrderQuerySet":
        """Addendum accepted, access not ended: being set up or running (ACCESS_AGREED_STATES)."""
        return self.filter(state__in=ACCESS_AGREED_STATES)

    def access_running(self) -> "AccessOrderQuerySet":
        """The access runs: established and not closed (ACCESS_RUNNING_STATES)."""
        return self.filter(state__in=ACCESS_RUNNING_STATES)


class AccessOrder(ChoiceLabels, ConcurrentTransitionMixin, models.Model):
    """A customer's order for one external system's access to a set of interfaces or a package."""

    class PurchaseModel(models.TextChoices):
        SINGLE = "single", _("Single purchase of interfaces")
        PACKAGE = "package", _("Integration package")

    class Environment(models.TextChoices):
        PRODUCTION = "production", _("Production")
        TEST = "test", _("Test")

    class Reason(models.TextChoices):
        NEW = "new", _("New integration")
        PHASE_OUT = "phase_out", _("Replaces a file interface being phased out")
        CHANGE = "change", _("Change to an existing access")

    class IntegrationType(models.TextChoices):
        STANDARD = "standard", _("Standard integration")
        INDIVIDUAL = "individual", _("Individual integration")

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="orders")
    external_system = models.ForeignKey(
        ExternalSystem, verbose_name=_("external system"), on_delete=models.PROTECT, related_name="orders"
    )
    purchase_model = models.CharField(_("purchase model"), max_length=10, choices=PurchaseModel.choices)
    package = optional(IntegrationPackage, _("integration package"))
    interfaces = models.ManyToManyField(Interface, verbose_name=_("interfaces"), blank=True, related_name="orders")
    environment = models.CharField(_("environment"), max_length=12, choices=Environment.choices)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices, default=Reason.NEW)
    replaces_file_interface = optional(
        Interface, _("file interface replaced"), related_name="phase_out_orders", limit_choices_to={"kind": "file"}
    )
    changes_order = optional("self", _("changes access"), related_name="change_orders")
    replaces_order = optional(
        "self",
        _("replaces access"),
        related_name="replaced_by_orders",
        help_text=_(
            "When the system replaces another system's live access: that access closes when this one is established."
        ),
    )
    test_order = optional("self", _("ordered from test access"), related_name="production_orders")
    integration_type = models.CharField(_("integration type"), max_length=12, choices=IntegrationType.choices)
    requisition_number = models.CharField(
        _("requisition number"),
        max_length=40,
        blank=True,
        validators=[validate_single_line_text],
        help_text=_("Your own reference, printed on invoices."),
    )
    startup_package = models.BooleanField(
        _("startup package"),
        default=False,
        help_text=_("Recommended for individual integration: test access for 6 months, 3 meetings, 4 hours of Q&A."),
    )
    note = models.TextField(
        _("note to KMD"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[validate_multiline_text]
    )
    # "I bør dog ikke igangsætte dette, uden I først har aftalt dette med leverandøren af det eksterne
    # system": the orderer's confirmation that an agreement with the vendor exists, who gave it and when.
    vendor_agreement_confirmed_by = person(_("agreement with the vendor confirmed by"), optional=True)
    vendor_agreement_confirmed_at = models.DateTimeField(
        _("agreement with the vendor confirmed"), null=True, blank=True
    )

    state = FSMField(_("state"), default=State.DRAFT, choices=State.choices, protected=True, db_index=True)

    created_by = person(_("created by"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    activated_on = models.DateField(_("access established on"), null=True, blank=True)
    closed_on = models.DateField(_("access ended on"), null=True, blank=True)
    emergency_reason = models.TextField(
        _("reason for emergency closure"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[validate_multiline_text]
    )
    # Closing on a future date (e.g. year end): the orderer's wish, then the account manager's decision. Until
    # that date the access stays active and billed; ordering.tasks.close_scheduled_accesses closes it on the day.
    closure_wished_on = models.DateField(_("closure wished on"), null=True, blank=True)
    closure_scheduled_on = models.DateField(_("closure scheduled for"), null=True, blank=True)
    # The customer asks support for an emergency closure (e.g. a security breach at the vendor); support acts.
    emergency_requested_at = models.DateTimeField(_("emergency closure requested"), null=True, blank=True)
    emergency_request_reason = models.TextField(
        _("reason given for the emergency-closure request"),
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        validators=[validate_multiline_text],
    )
    # The kind of the order's latest lifecycle action (a name in ordering.transitions.TRANSITIONS; "" before any),
    # written with its audit event, in the same transaction (services.running._audit_and_notify). The lists tag a
    # draft KMD returned or an addendum the customer declined by it, and the worklists find those orders with it,
    # without reading the audit trail for each order (ordering.selectors).
    last_action = models.CharField(_("latest lifecycle action"), max_length=40, blank=True, default="", editable=False)

    objects = AccessOrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("access order")
        verbose_name_plural = _("access orders")
        constraints = [
            models.CheckConstraint(
                condition=Q(purchase_model="single", package__isnull=True)
                | Q(purchase_model="package", package__isnull=False),
                name="package_set_only_for_package_orders",
            ),
            models.CheckConstraint(
                condition=Q(reason="phase_out") | Q(replaces_file_interface__isnull=True),
                name="file_interface_only_for_phase_out",
            ),
            models.CheckConstraint(
                condition=Q(reason="change", changes_order__isnull=False)
                | (~Q(reason="change") & Q(changes_order__isnull=True)),
                name="change_orders_name_the_access_they_change",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True)
                | Q(activated_on__isnull=True)
                | Q(closed_on__gte=F("activated_on")),
                name="access_ends_on_or_after_it_starts",
            ),
            models.CheckConstraint(
                condition=Q(vendor_agreement_confirmed_by__isnull=True, vendor_agreement_confirmed_at__isnull=True)
                | Q(vendor_agreement_confirmed_by__isnull=False, vendor_agreement_confirmed_at__isnull=False),
                name="vendor_agreement_names_who_and_when",
            ),
            models.CheckConstraint(
                condition=Q(test_order__isnull=True) | Q(environment="production"),
                name="only_production_orders_come_from_a_test_access",
            ),
            text_fits("note", "order_note_fits"),
            text_fits("emergency_reason", "order_emergency_reason_fits"),
            text_fits("emergency_request_reason", "order_emergency_request_reason_fits"),
        ]
        indexes = [
            models.Index(fields=["customer", "state"]),
            # The lists' order (newest first), across customers and within one, so a page is read
            # from the index instead of sorting every visible order. The customer is in the first one
            # too: a deep page finds its ids in the index alone (ordering.views._page).
            models.Index(fields=["-created_at", "-id", "customer"], name="order_newest_first"),
            models.Index(fields=["customer", "-created_at", "-id"], name="order_customer_newest_first"),
            # Support's worklist and its start page's alert read the few orders whose customer asked for an
            # emergency closure; without it, every order is scanned for them on every support page.
            models.Index(
                fields=["emergency_requested_at"],
                condition=Q(emergency_requested_at__isnull=False),
                name="order_emergency_requested",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} – {self.external_system.name}"

    def get_absolute_url(self) -> str:
        return url_with_number("ordering:order_detail", self.pk)  # as reverse() would, once a row of a list

    @property
    def reference(self) -> str:
        return order_reference(self.pk) if self.pk else "OA-(ny)"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def test_access_if_any(self) -> "TestAccess | None":
        """The test access started from this order's start-up package, or None. The lists ask it on every row: a
        missing one-to-one raises, and a template answers that by listing every attribute of the order."""
        try:
            return self.test_access
        except ObjectDoesNotExist:
            return None

    @property
    def closure_pending(self) -> datetime.date | None:
        """The date a still-running access is scheduled to close on, if any."""
        if self.state in ACCESS_RUNNING_STATES:
            return self.closure_scheduled_on
        return None

    @property
    def emergency_request_open(self) -> bool:
        """The customer asked support to emergency-close, and the access still runs."""
        return self.emergency_requested_at is not None and self.state in ACCESS_AGREED_STATES

    @classmethod
    def reads_package_live(cls) -> Q:
        """The orders whose interfaces are their package's as it is now (PACKAGE_READ_LIVE_STATES)."""
        return Q(purchase_model=cls.PurchaseModel.PACKAGE, package__isnull=False, state__in=PACKAGE_READ_LIVE_STATES)

    def requested_interfaces(self) -> list[Interface]:
        """The interfaces the external system gets: those picked one by one; for a package order the package's
        while no addendum binds it, and from the first addendum on the set frozen when the current version was
        issued (PACKAGE_READ_LIVE_STATES). `requested_interfaces_of` says the same for many orders at once."""
        if (
            self.purchase_model == self.PurchaseModel.PACKAGE
            and self.package_id
            and self.state in PACKAGE_READ_LIVE_STATES
        ):
            return list(self.package.interfaces.all())
        if self.pk is None or "interfaces" in getattr(self, "_prefetched_objects_cache", {}):
            return list(self.interfaces.all())  # refused unsaved, as always; or read already with a list
        return _INTERFACES_OF_ORDER.all(order=self.pk)

    def freeze_interfaces(self) -> None:
        """Fix a package order's interfaces to what its package holds now, as the addendum being issued prints them."""
        if self.purchase_model == self.PurchaseModel.PACKAGE and self.package_id:
            self.interfaces.set(self.package.interfaces.all())

    # Transitions change fields only; every side effect lives in ordering/services/.

    @_step(State.DRAFT, State.SUBMITTED, Role.ORDERER)
    def submit(self) -> None:
        self.submitted_at = timezone.now()

    @_step(State.SUBMITTED, State.DRAFT, Role.ACCOUNT_MANAGER)
    def return_for_changes(self) -> None:
        pass

    @_step(State.SUBMITTED, State.REJECTED, Role.ACCOUNT_MANAGER)
    def reject(self) -> None:
        pass

    @_step(State.SUBMITTED, State.WITHDRAWN, Role.ORDERER)
    def withdraw(self) -> None:
        pass

    # A draft the orderer gives up: it ends like a withdrawn order (kept, audited, never reopened), but with an
    # event of its own, since KMD never saw it and nobody is told.
    @_step(State.DRAFT, State.WITHDRAWN, Role.ORDERER)
    def discard(self) -> None:
        pass

    @_step(State.SUBMITTED, State.AWAITING_SIGNATURE, Role.ACCOUNT_MANAGER)
    def issue_addendum(self) -> None:
        pass

    @_step(State.AWAITING_SIGNATURE, State.AWAITING_SIGNATURE, Role.ACCOUNT_MANAGER)
    def revise(self) -> None:
        pass

    @_step(State.AWAITING_SIGNATURE, State.PROVISIONING, Role.SIGNATORY)
    def accept(self) -> None:
        pass

    @_step(State.AWAITING_SIGNATURE, State.SUBMITTED, Role.SIGNATORY)
    def decline(self) -> None:
        pass

    @_step(State.PROVISIONING, State.ACTIVE, Role.ACCOUNT_MANAGER)
    def activate(self, *, on: datetime.date) -> None:
        self.activated_on = on

    @_step(State.ACTIVE, State.CLOSURE_REQUESTED, Role.ORDERER)
    def request_closure(self, *, wished_on: datetime.date | None = None) -> None:
        self.closure_wished_on = wished_on

    @_step(State.CLOSURE_REQUESTED, State.ACTIVE, Role.ORDERER)
    def withdraw_closure_request(self) -> None:
        # A closure KMD scheduled was scheduled at the customer's request: it goes with the request.
        self.closure_wished_on = None
        self.closure_scheduled_on = None

    # The state stays (target None): the access runs, and is billed, until the scheduled date.
    @_step(ACCESS_RUNNING_STATES, None, Role.ACCOUNT_MANAGER)
    def schedule_closure(self, *, on: datetime.date) -> None:
        self.closure_scheduled_on = on

    @_step(ACCESS_RUNNING_STATES, None, Role.ACCOUNT_MANAGER)
    def cancel_scheduled_closure(self) -> None:
        self.closure_scheduled_on = None

    @_step(ACCESS_RUNNING_STATES, State.CLOSED, Role.ACCOUNT_MANAGER)
    def close(self, *, on: datetime.date) -> None:
        self.closed_on = on

    @_step(ACCESS_AGREED_STATES, State.EMERGENCY_CLOSED, Role.SUPPORT)
    def emergency_close(self, *, reason: str, on: datetime.date) -> None:
        self.emergency_reason = reason
        self.closed_on = on


# Every order page and action asks an order's interfaces: compiled once per process (core/prepared.py).
_INTERFACES_OF_ORDER = Prepared(lambda p: Interface.objects.filter(orders=p.order))


def requested_interfaces_of(orders: models.QuerySet[AccessOrder], *fields: str) -> models.QuerySet:
    """AccessOrder.requested_interfaces for many orders in one query, however many orders: each interface once
    for each order that gets it, annotated with that order's `order_id`, in catalogue order; with `fields`,
    plain rows `(order_id, *fields)` in no particular order (registers/access.py reads codes so)."""
    live = AccessOrder.reads_package_live()
    # Each part of the compound statement without Interface.Meta.ordering: SQLite refuses an ORDER BY
    # inside a UNION's parts (PostgreSQL takes it); the whole is ordered afterwards where it matters.
    picked_or_frozen = (
        Interface.objects.annotate(order_id=F("orders"))
        .filter(order_id__in=orders.exclude(live).values("pk"))
        .order_by()
    )
    from_package = (
        Interface.objects.annotate(order_id=F("packages__accessorder"))
        .filter(order_id__in=orders.filter(live).values("pk"))
        .order_by()
    )
    if fields:
        rows = ("order_id", *fields)
        return picked_or_frozen.values_list(*rows).union(from_package.values_list(*rows), all=True)
    return picked_or_frozen.union(from_package, all=True).order_by("kind", "name_da", "pk")


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the month's last day when it is shorter (31 Aug + 6 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    next_month = datetime.date(year + month // 12, month % 12 + 1, 1)
    return datetime.date(year, month, min(day.day, (next_month - datetime.timedelta(days=1)).day))


class TestAccess(models.Model):
    """The vendor's access to the external test environment that the startup package includes.

    The source: "6 måneders adgang for ekstern leverandør til webservices på eksternt testmiljø".
    Our model: the startup package is bought on an individual-integration order for the test
    environment, and that order *is* the access (its system, interfaces and certificate), so the
    lifecycle and the access register keep one row per access. This row holds only what the package
    adds: the term, which starts when the order is activated and ends by itself `MONTHS` later, its
    extensions, and which expiry notice was sent. On `ends_on` the daily task closes the order
    (state "closed", `closed_on = ends_on`) and records `expired_on`: the audit kind
    `test_access_expired` says why it closed, and billing stops as on any closure. The access runs up
    to, not including, `ends_on`.
    """

    __test__ = False  # not a pytest test class, despite its name

    MONTHS = 6
    NOTICE_DAYS = (30, 7)  # orderers and account manager are told this many days before the end, each once

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        EXPIRED = "expired", _("Expired")
        CLOSED = "closed", _("Closed")

    order = models.OneToOneField(
        AccessOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="test_access"
    )
    starts_on = models.DateField(_("test access from"))
    ends_on = models.DateField(_("test access ends on"))
    expired_on = models.DateField(_("expired on"), null=True, blank=True)
    # The smallest of NOTICE_DAYS already told for the current end date; an extension clears it.
    notified_days = models.PositiveSmallIntegerField(_("notice sent (days before the end)"), null=True, blank=True)
    extended_by = person(_("extended by"), optional=True)
    extended_at = models.DateTimeField(_("extended"), null=True, blank=True)
    extension_reason = models.TextField(
        _("reason for the extension"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[validate_multiline_text]
    )

    class Meta:
        verbose_name = _("test access")
        verbose_name_plural = _("test accesses")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gt=F("starts_on")), name="test_access_ends_after_it_starts"),
            text_fits("extension_reason", "test_access_extension_reason_fits"),
        ]

    def __str__(self) -> str:
        return f"{self.order.reference}: {self.starts_on} – {self.ends_on}"

    @classmethod
    def term_end(cls, starts_on: datetime.date) -> datetime.date:
        return add_months(starts_on, cls.MONTHS)

    @property
    def status(self) -> str:
        if self.expired_on:
            return self.Status.EXPIRED
        return self.Status.ACTIVE if self.order.state in ACCESS_AGREED_STATES else self.Status.CLOSED

    def get_status_display(self) -> str:
        return self.Status(self.status).label


class AccessClarification(models.Model):
    """The clarification of an individual integration's access rights, recorded by the account manager.

    The source: "Ved individuel integration skal der desuden indgås i en afklaringsproces om brugen af
    certifikater og adgangsrettigheder i forhold til det eksterne systems tilgang til KMD Opus Personale."
    (A standard integration has it agreed between KMD and the vendor already.) It says which interfaces,
    which data and which certificate; the addendum prints it, and cannot be issued without it, nor when the
    order's interfaces or certificate have changed since (ordering/services/transitions.py, `_check_addendum_issuable`).
    Recording it again replaces it; the audit trail keeps each recording.
    """

    order = models.OneToOneField(
        AccessOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="access_clarification"
    )
    interfaces = models.ManyToManyField(
        Interface, verbose_name=_("interfaces the certificate gets access rights to"), related_name="+"
    )
    data_scope = models.TextField(
        _("data the system may reach"),
        max_length=TEXT_MAX_LENGTH,
        validators=[validate_multiline_text],
        help_text=_("Whose data and which data, e.g. all employees of the administration, or only absence and quotas."),
    )
    # Which certificate: the leaf of the order's chain in use when the clarification was recorded.
    certificate_sha256 = models.CharField(_("SHA-256 fingerprint of the certificate"), max_length=64)
    certificate_subject = models.TextField(_("certificate"))
    recorded_by = person(_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("access-rights clarification")
        verbose_name_plural = _("access-rights clarifications")
        constraints = [text_fits("data_scope", "clarification_data_scope_fits")]

    def __str__(self) -> str:
        return f"{self.order.reference}: {self.recorded_at:%Y-%m-%d}"


# The audit kind of "Generate again" (AuditKind.ADDENDUM_RENDER_AGAIN in ordering/audit.py, which reads
# these models).
RENDER_AGAIN_KIND = "addendum_render_again"


def _addendum_path(addendum: "Addendum", filename: str) -> str:
    # Unguessable names in private storage; files are only ever handed out by the access-checked view.
    return f"addenda/{addendum.order_id}/{uuid.uuid4().hex}.pdf"


class Addendum(ChoiceLabels, models.Model):
    """One version of the contract addendum for an order.

    The document itself (PDF, hash) and the frozen price quote are added by later work;
    this records who issued, accepted or declined which version, and when.
    """

    class Status(models.TextChoices):
        ISSUED = "issued", _("Issued")
        SUPERSEDED = "superseded", _("Superseded")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")

    class RenderStatus(models.TextChoices):
        PENDING = "pending", _("Being generated")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    order = models.ForeignKey(AccessOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="addenda")
    version = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ISSUED)
    issued_by = person(_("issued by"))
    issued_at = models.DateTimeField(_("issued"), default=timezone.now)
    decided_by = person(_("decided by"), optional=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_from_ip = models.GenericIPAddressField(_("decided from IP address"), null=True, blank=True)
    decline_reason = models.TextField(
        _("reason for declining"), blank=True, max_length=TEXT_MAX_LENGTH, validators=[validate_multiline_text]
    )
    # The document: rendered in the background after the version is issued.
    render_status = models.CharField(
        _("document"), max_length=10, choices=RenderStatus.choices, default=RenderStatus.PENDING
    )
    render_error = models.TextField(_("rendering error"), blank=True)
    pdf = models.FileField(_("PDF"), upload_to=_addendum_path, blank=True)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF"), max_length=64, blank=True)
    rendered_at = models.DateTimeField(_("rendered"), null=True, blank=True)
    # Acceptance: what the signatory typed, and the hash of the exact document they accepted.
    signer_name = models.CharField(
        _("name of the signatory, as typed"), max_length=200, blank=True, validators=[validate_single_line_text]
    )
    signer_title = models.CharField(
        _("title of the signatory, as typed"), max_length=200, blank=True, validators=[validate_single_line_text]
    )
    accepted_sha256 = models.CharField(_("SHA-256 of the accepted PDF"), max_length=64, blank=True)
    # How the signatory had logged in when they accepted (accounts.oidc.Proof): scheme, issuer, CVR, persistent
    # UUID, NSIS assurance level, time of authentication. Empty for a password login (the demo only).
    signer_login = models.JSONField(_("login at acceptance"), default=dict, blank=True)
    final_pdf = models.FileField(_("accepted copy"), upload_to=_addendum_path, blank=True)
    final_sha256 = models.CharField(_("SHA-256 of the accepted copy"), max_length=64, blank=True)
    # The price quote as it stood when this version was issued; later price lists do not touch it.
    quote = models.JSONField(_("frozen price quote"), null=True, blank=True)
    price_list = optional("billing.PriceList", _("price list"), related_name="addenda")

    class Meta:
        ordering = ["order", "version"]
        verbose_name = _("contract addendum")
        verbose_name_plural = _("contract addenda")
        constraints = [
            models.UniqueConstraint(fields=["order", "version"], name="addendum_version_unique"),
            text_fits("decline_reason", "addendum_decline_reason_fits"),
        ]
        indexes = [
            # The worklists read the few versions awaiting signature by their document's status (issue 23).
            models.Index(fields=["render_status"], condition=Q(status="issued"), name="addendum_issued_by_render")
        ]

    def __str__(self) -> str:
        return f"{self.order.reference} v{self.version}"

    def save(self, *args, **kwargs):
        # An accepted version is a signed document: only its stamped copy may still be added.
        if not self._state.adding and self.pk:
            stored = Addendum.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            allowed = {"final_pdf", "final_sha256"}
            if stored == self.Status.ACCEPTED and not set(kwargs.get("update_fields") or ["*"]) <= allowed:
                raise PermissionError("An accepted addendum cannot be changed.")
        super().save(*args, **kwargs)

    @property
    def number(self) -> str:
        return f"{self.order.reference}-{self.version}"

    def render_requested_at(self) -> datetime.datetime:
        """When the document was last asked for: the version's issue, or the latest "Generate again"."""
        again = AuditEvent.objects.filter(
            order_id=self.order_id, kind=RENDER_AGAIN_KIND, subject_id=str(self.pk)
        ).aggregate(at=models.Max("created_at"))["at"]
        return max(self.issued_at, again) if again else self.issued_at

    @property
    def render_stalled(self) -> bool:
        """Still "being generated" after a render's time limit and a sweep: something went wrong on the way.

        The page then offers "Generate again" instead of waiting forever, and check_health reports it.
        """
        if self.status != self.Status.ISSUED or self.render_status != self.RenderStatus.PENDING:
            return False
        waited = timezone.now() - self.render_requested_at()
        return waited > datetime.timedelta(seconds=settings.ADDENDUM_RENDER_STALLED_SECONDS)


class Notification(models.Model):
    """An e-mail sent about an audit event, so a retried task never sends it to the same person twice."""

    event = models.ForeignKey(
        AuditEvent, verbose_name=_("audit event"), on_delete=models.PROTECT, related_name="notifications"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="+"
    )
    email = models.EmailField(
        _("e-mail"),
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["event", "recipient"], name="notify_once_per_recipient")]

    def __str__(self) -> str:
        return f"{self.event} → {self.email}"


class ConsultingRequest(ChoiceLabels, models.Model):
    """The customer asks KMD for help ("I kan anmode om konsulentbistand fra KMD"): before an integration project
    ("Vi anbefaler, at I kontakter KMD … før projektet påbegyndes"), during it, or after establishment.

    About one order, or about the customer's plans before any order. It waits on the account manager's start
    page until answered; the hours KMD then spends are recorded as consulting (billing) from the day it was
    asked, at the senior consultant's rate of the price list in force on the day they are worked.
    """

    class Kind(models.TextChoices):
        # The document's three levels of help, from the least KMD does to the most.
        STARTUP_PACKAGE = "startup_package", _("The startup package: KMD answers and advises when asked")
        REACTIVE = "reactive", _("Help when we ask: meetings and answers, billed by the hour")
        ACTIVE_PART = "active_part", _("KMD as an active part of the integration project")

    MESSAGE_MAX_LENGTH = TEXT_MAX_LENGTH

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="consulting_requests"
    )
    order = optional(AccessOrder, _("order"), related_name="consulting_requests")
    kind = models.CharField(_("help wanted"), max_length=20, choices=Kind.choices)
    message = models.TextField(
        _("what you need help with"), max_length=MESSAGE_MAX_LENGTH, validators=[validate_multiline_text]
    )
    requested_by = person(_("asked by"))
    requested_at = models.DateTimeField(_("asked"), default=timezone.now)
    answer = models.TextField(
        _("answer"), blank=True, max_length=MESSAGE_MAX_LENGTH, validators=[validate_multiline_text]
    )
    answered_by = person(_("answered by"), optional=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("request for help from KMD")
        verbose_name_plural = _("requests for help from KMD")
        constraints = [
            text_fits("message", "consulting_request_message_fits"),
            text_fits("answer", "consulting_request_answer_fits"),
        ]
        indexes = [models.Index(fields=["customer", "answered_at"], name="consulting_request_open")]

    def __str__(self) -> str:
        return f"{self.customer} – {self.get_kind_display()}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None

    @property
    def requested_on(self) -> datetime.date:
        return timezone.localdate(self.requested_at)


class OrderMessage(ChoiceLabels, models.Model):
    """One message in an order's thread between the customer and KMD (ordering/thread.py).

    The side is kept as written: a person's roles may change later, what they wrote as stays.
    """

    class Side(models.TextChoices):
        # KMD's side is stored as "supplier", not "kmd": the page checks would take "kmd" in kmd.dk for a raw code.
        CUSTOMER = "customer", _("Customer")
        KMD = "supplier", _("KMD")

    TEXT_MAX_LENGTH = TEXT_MAX_LENGTH

    order = models.ForeignKey(AccessOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="messages")
    author = person(_("written by"))
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    text = models.TextField(_("message"), max_length=TEXT_MAX_LENGTH, validators=[validate_multiline_text])
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message about an order")
        verbose_name_plural = _("messages about orders")
        constraints = [text_fits("text", "order_message_text_fits")]
        indexes = [models.Index(fields=["order", "created_at"], name="order_message_thread")]

    def __str__(self) -> str:
        return f"{order_reference(self.order_id)} – {self.created_at:%Y-%m-%d %H:%M}"


class OrderMessageAttachment(models.Model):
    """A file sent with a message: its type told by its content (core/uploads.py `sniff`), kept in the database
    and only ever handed back as a download (ordering/views.py `order_message_attachment`)."""

    message = models.ForeignKey(
        OrderMessage, verbose_name=_("message"), on_delete=models.PROTECT, related_name="attachments"
    )
    filename = models.CharField(_("file name"), max_length=100)
    kind = models.CharField(_("file type"), max_length=10)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    data = models.BinaryField(_("content"))

    class Meta:
        ordering = ["pk"]
        verbose_name = _("attachment to a message")
        verbose_name_plural = _("attachments to messages")

    def __str__(self) -> str:
        return self.filename

    @property
    def size_kb(self) -> Decimal:
        """The size in kB (1024 bytes) with one decimal, rounded up: a 1-byte file is 0,1 kB, never 0."""
        return (Decimal(self.size) / 1024).quantize(Decimal("0.1"), rounding=ROUND_UP)
