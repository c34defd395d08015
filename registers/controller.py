"""The controller's register: every external system with access to a customer's Opus Personale data.

The customer is the data controller and KMD its processor; the customer keeps records of processing
(GDPR art. 30). This register lists, per access, what the customer needs for them — system, vendor,
interfaces and their personal-data categories, environment, since when, the accepted contract addendum
(number and the SHA-256 of the exact PDF the signatory accepted), and the certificate the system logs in
with — for the accesses running now and those closed in the last `CLOSED_YEARS` years.

One read (`controller_register`) serves the page, the CSV and the PDF, so the three always agree; who may
read which customer's register is the tenant rule of ordering.selectors (`served_customers`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404, HttpResponse
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.roles import can_see_controller_registers, is_support
from certificates.models import Certificate, CertificateBundle
from core.exports import csv_download
from core.security import NotVisible
from ordering import documents
from ordering.models import AccessOrder, Addendum, Customer, Interface, State, add_months, requested_interfaces_of
from ordering.selectors import served_customers

# Art. 30 asks for no retention period; five years of closed accesses lets a controller answer for what
# had access during an audit or a data subject's request, and keeps the register readable.
CLOSED_YEARS = 5
# Running accesses: established (activated) and not yet closed. An order still being established has no
# access yet; it enters the register on the day its access is established.
RUNNING_STATES = (State.ACTIVE, State.CLOSURE_REQUESTED)
CLOSED_STATES = (State.CLOSED, State.EMERGENCY_CLOSED)

PDF_TEMPLATE = "registers/controller_register_pdf.html"


# --- Who may read which customer's register --------------------------------------------------------


def register_customers(user) -> QuerySet[Customer]:
    """The customers whose register the user may read: their own (orderer or signatory), the ones they
    manage as account manager, and every customer for support."""
    if not can_see_controller_registers(user):
        return Customer.objects.none()
    if is_support(user):
        return Customer.objects.all()
    return Customer.objects.filter(served_customers(user, ""))


def customer_for_register(user, pk: int) -> Customer:
    """The customer if the user may read its register; otherwise 404, so its existence is not revealed."""
    try:
        return register_customers(user).get(pk=pk)
    except Customer.DoesNotExist:
        if Customer.objects.filter(pk=pk).exists():
            raise NotVisible("No such customer", kind="customer", pk=pk) from None
        raise Http404("No such customer") from None


# --- The register --------------------------------------------------------------------------------


def closed_since(today: datetime.date) -> datetime.date:
    """The first closing date still listed: the same day `CLOSED_YEARS` years ago (29 Feb → 28 Feb)."""
    return add_months(today, -12 * CLOSED_YEARS)


def short_date(day: datetime.date | None) -> str:
    """The app's date format: 28.11.2026 in Danish, 28/11/2026 in English."""
    return formats.date_format(day, "SHORT_DATE_FORMAT") if day else ""


@dataclass(frozen=True)
class RegisterEntry:
    """One access as the register shows it. `order`, `addendum` and `certificate` are kept for the page's links."""

    order: AccessOrder
    interfaces: list[str]
    data_categories: list[str]
    addendum: Addendum | None
    certificate: Certificate | None

    @property
    def system(self) -> str:
        return self.order.external_system.name

    @property
    def vendor(self) -> str:
        return self.order.external_system.vendor.name

    @property
    def vendor_cvr(self) -> str:
        return self.order.external_system.vendor.cvr

    @property
    def since(self) -> datetime.date | None:
        return self.order.activated_on

    @property
    def addendum_number(self) -> str:
        return f"{self.order.reference}-{self.addendum.version}" if self.addendum else ""

    @property
    def addendum_sha256(self) -> str:
        return self.addendum.accepted_sha256 if self.addendum else ""

    @property
    def is_standard_integration(self) -> bool:
        return self.order.integration_type == AccessOrder.IntegrationType.STANDARD

    @property
    def certificate_holder(self) -> str:
        """Who the certificate was issued to, as HR staff read it (certificates/_name.html's holder line)."""
        if self.certificate is None:
            if self.is_standard_integration:
                return _("Standard integration: the certificate is agreed between KMD and the vendor")
            return ""
        parts = self.certificate.name_parts
        details = [parts.holder or self.certificate.subject, parts.organisation]
        if parts.cvr:
            details.append(_("CVR %(cvr)s") % {"cvr": parts.cvr})
        return ", ".join(d for d in details if d)

    @property
    def certificate_expires(self) -> datetime.date | None:
        return timezone.localdate(self.certificate.not_after) if self.certificate else None

    @property
    def is_closed(self) -> bool:
        return self.order.state in CLOSED_STATES

    @property
    def status(self) -> str:
        return str(self.order.get_state_display())

    @property
    def closed_on(self) -> datetime.date | None:
        return self.order.closed_on if self.is_closed else None

    @property
    def closure_scheduled_on(self) -> datetime.date | None:
        return None if self.is_closed else self.order.closure_scheduled_on


@dataclass(frozen=True)
class ControllerRegister:
    customer: Customer
    made_at: datetime.datetime
    closed_since: datetime.date
    running: list[RegisterEntry]
    closed: list[RegisterEntry]

    @property
    def entries(self) -> list[RegisterEntry]:
        return self.running + self.closed

    @property
    def processor_name(self) -> str:
        return settings.SUPPLIER_NAME

    @property
    def processor_cvr(self) -> str:
        return settings.SUPPLIER_CVR


def register_entries(customer: Customer, *, today: datetime.date) -> list[RegisterEntry]:
    """The customer's running accesses and those closed since `closed_since(today)`, with everything the
    register prints: four queries however many accesses there are, and whichever kinds.

    The interfaces (`requested_interfaces_of`: a package order's are those frozen when its addendum was
    issued, not what the package holds today) and the certificates are read by explicit queries rather than
    prefetches, which Django skips when no order has a certificate: the cost is the same for every customer,
    which is what the query-count test holds.
    """
    listed = Q(state__in=RUNNING_STATES) | Q(
        state__in=CLOSED_STATES, activated_on__isnull=False, closed_on__gte=closed_since(today)
    )
    orders = list(
        AccessOrder.objects.filter(listed, customer=customer)
        .select_related("external_system__vendor")
        .prefetch_related(
            Prefetch(
                "addenda",
                queryset=Addendum.objects.filter(status=Addendum.Status.ACCEPTED).order_by("-version"),
                to_attr="accepted_addenda",
            ),
        )
        .order_by("external_system__name", "environment", "pk")
    )
    if not orders:
        return []
    ids = [order.pk for order in orders]
    interfaces: dict[int, list[Interface]] = defaultdict(list)
    for interface in requested_interfaces_of(AccessOrder.objects.filter(pk__in=ids)):
        interfaces[interface.order_id].append(interface)
    leaves = Certificate.objects.filter(
        role=Certificate.Role.LEAF, bundle__status=CertificateBundle.Status.CURRENT, bundle__order_id__in=ids
    ).annotate(order_id=F("bundle__order_id"))
    leaf_of = {leaf.order_id: leaf for leaf in leaves}
    return [_entry(order, interfaces[order.pk], leaf_of.get(order.pk)) for order in orders]


def _entry(order: AccessOrder, interfaces: list[Interface], leaf: Certificate | None) -> RegisterEntry:
    return RegisterEntry(
        order=order,
        interfaces=[interface.name for interface in interfaces],
        data_categories=list(dict.fromkeys(c for interface in interfaces for c in interface.data_category_list)),
        addendum=order.accepted_addenda[0] if order.accepted_addenda else None,
        certificate=leaf,
    )


def controller_register(customer: Customer, *, today: datetime.date | None = None) -> ControllerRegister:
    """The register of one customer: running accesses by system, then closed ones, most recently closed first."""
    today = today or timezone.localdate()
    entries = register_entries(customer, today=today)
    closed = sorted((e for e in entries if e.is_closed), key=lambda e: (e.closed_on, e.order.pk), reverse=True)
    return ControllerRegister(
        customer=customer,
        made_at=timezone.now(),
        closed_since=closed_since(today),
        running=[e for e in entries if not e.is_closed],
        closed=closed,
    )


# --- As files --------------------------------------------------------------------------------------


def _filename(register: ControllerRegister, ext: str) -> str:
    day = timezone.localdate(register.made_at).isoformat()
    return f"fortegnelse-eksterne-systemer-{register.customer.cvr}-{day}.{ext}"


def _headings() -> list[str]:
    return [
        _("Order"),
        _("External system"),
        _("Vendor"),
        _("Vendor's CVR number"),
        _("Interfaces"),
        _("Personal-data categories"),
        _("Environment"),
        _("Access since"),
        _("Contract addendum"),
        _("SHA-256 of the accepted addendum"),
        _("Certificate holder"),
        _("Certificate expires"),
        _("Status"),
        _("Access ended on"),
        _("Closure scheduled for"),
    ]


def _row(entry: RegisterEntry) -> list[str]:
    # Dates as the app writes them (28.11.2026 in Danish): the register is read, not computed with.
    return [
        entry.order.reference,
        entry.system,
        entry.vendor,
        entry.vendor_cvr,
        "; ".join(entry.interfaces),
        "; ".join(entry.data_categories),
        str(entry.order.get_environment_display()),
        short_date(entry.since),
        entry.addendum_number,
        entry.addendum_sha256,
        entry.certificate_holder,
        short_date(entry.certificate_expires),
        entry.status,
        short_date(entry.closed_on),
        short_date(entry.closure_scheduled_on),
    ]


def register_csv(register: ControllerRegister) -> HttpResponse:
    """Danish Excel's CSV (semicolons, UTF-8 with BOM), every cell formula-safe (core/exports.py)."""
    response, writer = csv_download(_filename(register, "csv"))
    writer.writerow(_headings())
    writer.writerows(_row(entry) for entry in register.entries)
    return response


def register_pdf_html(register: ControllerRegister) -> str:
    """The register as the document's HTML, in the reader's language (the page's)."""
    return render_to_string(
        PDF_TEMPLATE,
        {
            "register": register,
            "language": get_language() or settings.LANGUAGE_CODE,
            "closed_years": CLOSED_YEARS,
            "static": documents.STATIC_SCHEME,
        },
    )


def register_pdf(register: ControllerRegister) -> HttpResponse:
    """A tagged PDF/A rendered like the contract addendum (ordering/documents.py): same fonts, same fetcher."""
    pdf = documents.html_to_pdf(register_pdf_html(register))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{_filename(register, "pdf")}"'
    return response
