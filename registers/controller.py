"""The controller's register: every external system with access to a customer's Opus Personale data.

The customer is the data controller and KMD its processor; the customer keeps records of processing
(GDPR art. 30). This register lists, per access, what the customer needs for them — system, vendor,
interfaces and their personal-data categories, environment, since when, the accepted contract addendum
(number and the SHA-256 of the exact PDF the signatory accepted), and the certificate the system logs in
with — for the accesses running now and those closed in the last `CLOSED_YEARS` years.

One read (`controller_register`) and one list of columns (`COLUMNS`) serve the page, the CSV and the PDF,
so the three always agree; who may read which customer's register is the tenant rule of ordering.selectors
(`served_customers`).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from accounts.roles import can_see_controller_registers, is_support
from certificates.models import Certificate, CertificateBundle
from core.exports import csv_download
from core.security import visible_or_404
from ordering import documents
from ordering.models import (
    ACCESS_RUNNING_STATES,
    CLOSED_STATES,
    AccessOrder,
    Addendum,
    Customer,
    Interface,
    add_months,
    requested_interfaces_of,
)
from ordering.selectors import served_customers

# Art. 30 asks for no retention period; five years of closed accesses lets a controller answer for what
# had access during an audit or a data subject's request, and keeps the register readable.
CLOSED_YEARS = 5

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
    return visible_or_404(register_customers(user), pk, kind="customer")


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

    @property
    def cells(self) -> list[Cell]:
        """The entry's cells in the page's and the PDF's tables, column by column (`COLUMNS`)."""
        return [column.cell(self) for column in COLUMNS]


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
    def columns(self) -> tuple[Column, ...]:
        return COLUMNS

    @property
    def processor_name(self) -> str:
        return settings.SUPPLIER_NAME

    @property
    def processor_cvr(self) -> str:
        return settings.SUPPLIER_CVR


def controller_entries(customer: Customer, *, today: datetime.date) -> list[RegisterEntry]:
    """The customer's running accesses and those closed since `closed_since(today)`, with everything the
    register prints: four queries however many accesses there are, and whichever kinds.

    The interfaces (`requested_interfaces_of`: a package order's are those frozen when its addendum was
    issued, not what the package holds today) and the certificates are read by explicit queries rather than
    prefetches, which Django skips when no order has a certificate: the cost is the same for every customer,
    which is what the query-count test holds.
    """
    listed = Q(state__in=ACCESS_RUNNING_STATES) | Q(
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
    entries = controller_entries(customer, today=today)
    closed = sorted((e for e in entries if e.is_closed), key=lambda e: (e.closed_on, e.order.pk), reverse=True)
    return ControllerRegister(
        customer=customer,
        made_at=timezone.now(),
        closed_since=closed_since(today),
        running=[e for e in entries if not e.is_closed],
        closed=closed,
    )


# --- Its columns: one list for the page, the CSV and the PDF ----------------------------------------

Value = str | list[str] | datetime.date | None


def _text(value: Value) -> str:
    # Dates as the app writes them (28.11.2026 in Danish): the register is read, not computed with.
    if isinstance(value, list):
        return "; ".join(value)
    if isinstance(value, datetime.date):
        return short_date(value)
    return value or ""


@dataclass(frozen=True)
class Fact:
    """One fact of an access: a column of the CSV, a line of a cell in the page's and the PDF's tables."""

    heading: str | Promise  # the CSV's
    value: Callable[[RegisterEntry], Value]
    # How a table writes it under its column's first fact, e.g. "Expires 28.11.2026"; the bare text if None.
    note: Callable[[str], str] | None = None

    def text(self, entry: RegisterEntry) -> str:
        return _text(self.value(entry))


@dataclass(frozen=True)
class Cell:
    """One access's cell in a column of the tables (`Column.cell`)."""

    key: str
    text: str  # the first fact, written out ("" without one)
    items: list[str]  # the first fact when it is a list (interfaces, categories): a list in the tables
    notes: list[str]  # the other facts that have a value, each as its note says
    empty: str


@dataclass(frozen=True)
class Column:
    """A column of the tables: its facts share one cell, the first as the cell's value, the others as notes.

    `key` is what the templates switch on for the few cells they write richly (the page's links, the
    certificate's name, the hash of the addendum); every other cell is written from its facts alone.
    """

    key: str
    facts: tuple[Fact, ...]
    table_heading: str | Promise | None = None  # the first fact's heading when None
    empty: str | Promise = "–"  # written when the first fact has no value

    @property
    def heading(self) -> str | Promise:
        return self.table_heading or self.facts[0].heading

    def cell(self, entry: RegisterEntry) -> Cell:
        first, *others = self.facts
        value = first.value(entry)
        notes = []
        for fact in others:
            text = fact.text(entry)
            if text:
                notes.append(fact.note(text) if fact.note else text)
        return Cell(
            key=self.key,
            text=_text(value),
            items=value if isinstance(value, list) else [],
            notes=notes,
            empty=str(self.empty),
        )


# In this order in every form of the register; the CSV has a column for each fact.
COLUMNS: tuple[Column, ...] = (
    Column("order", (Fact(gettext_lazy("Order"), lambda e: e.order.reference),)),
    Column(
        "system",
        (
            Fact(gettext_lazy("External system"), lambda e: e.system),
            Fact(gettext_lazy("Vendor"), lambda e: e.vendor),
            Fact(gettext_lazy("Vendor's CVR number"), lambda e: e.vendor_cvr, lambda t: _("CVR %(cvr)s") % {"cvr": t}),
        ),
    ),
    Column("interfaces", (Fact(gettext_lazy("Interfaces"), lambda e: e.interfaces),)),
    Column(
        "data_categories",
        (Fact(gettext_lazy("Personal-data categories"), lambda e: e.data_categories),),
        empty=gettext_lazy("Not recorded in the catalogue"),
    ),
    Column("environment", (Fact(gettext_lazy("Environment"), lambda e: str(e.order.get_environment_display())),)),
    Column("since", (Fact(gettext_lazy("Access since"), lambda e: e.since),)),
    Column(
        "addendum",
        (
            Fact(gettext_lazy("Contract addendum"), lambda e: e.addendum_number),
            Fact(gettext_lazy("SHA-256 of the accepted addendum"), lambda e: e.addendum_sha256),
        ),
    ),
    Column(
        "certificate",
        (
            Fact(gettext_lazy("Certificate holder"), lambda e: e.certificate_holder),
            Fact(
                gettext_lazy("Certificate expires"),
                lambda e: e.certificate_expires,
                lambda t: _("Expires %(date)s") % {"date": t},
            ),
        ),
        table_heading=gettext_lazy("Certificate"),
    ),
    Column(
        "status",
        (
            Fact(gettext_lazy("Status"), lambda e: e.status),
            Fact(
                gettext_lazy("Access ended on"), lambda e: e.closed_on, lambda t: _("Ended on %(date)s") % {"date": t}
            ),
            Fact(
                gettext_lazy("Closure scheduled for"),
                lambda e: e.closure_scheduled_on,
                lambda t: _("Closes on %(date)s") % {"date": t},
            ),
        ),
    ),
)
FACTS: tuple[Fact, ...] = tuple(fact for column in COLUMNS for fact in column.facts)


# --- As files --------------------------------------------------------------------------------------


def _filename(register: ControllerRegister, ext: str) -> str:
    day = timezone.localdate(register.made_at).isoformat()
    return f"fortegnelse-eksterne-systemer-{register.customer.cvr}-{day}.{ext}"


def register_csv(register: ControllerRegister) -> HttpResponse:
    """Danish Excel's CSV (semicolons, UTF-8 with BOM), every cell formula-safe (core/exports.py)."""
    response, writer = csv_download(_filename(register, "csv"))
    writer.writerow([str(fact.heading) for fact in FACTS])
    writer.writerows([fact.text(entry) for fact in FACTS] for entry in register.entries)
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
