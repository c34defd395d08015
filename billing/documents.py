"""The invoice as a tagged PDF/A document: the addendum's rendering (ordering/documents.py), with its fonts,
static-files-only fetcher and PDF/A-3a variant, so the app has one PDF set-up."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import translation

from ordering import documents as addendum_documents
from ordering.documents import STATIC_SCHEME

from .models import Invoice, InvoiceLine

TEMPLATE = "billing/invoice/document.html"


def invoice_lines(invoice: Invoice) -> QuerySet[InvoiceLine]:
    """The invoice's lines in the order they were billed (one query). Each names the order it bills by its number
    (InvoiceLine.order_reference), read off the line: joining the orders made PostgreSQL hash every order in the
    database for a page of 50 lines, 3 ms at 10,000 orders and growing with them."""
    return invoice.lines.order_by("pk")


def invoice_html(invoice: Invoice) -> str:
    # An invoice to a Danish public customer is a Danish document, whichever language its reader uses.
    with translation.override("da"):
        return render_to_string(
            TEMPLATE,
            {
                "invoice": invoice,
                "lines": invoice_lines(invoice),
                "supplier_name": settings.SUPPLIER_NAME,
                "supplier_cvr": settings.SUPPLIER_CVR,
                "static": STATIC_SCHEME,
            },
        )


def invoice_pdf(invoice: Invoice) -> bytes:
    """Rendered when asked: an invoice is final (Invoice.save refuses a change), so its PDF says the same each time."""
    # Looked up on its module when called, so the tests' fast stand-in (tests/conftest.py) renders invoices too.
    return addendum_documents.html_to_pdf(invoice_html(invoice))


def invoice_filename(invoice: Invoice) -> str:
    return f"faktura-{invoice.number}.pdf"
