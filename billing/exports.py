"""The invoice list as CSV (Danish Excel) and XLSX: the same columns, every text cell formula-safe (core/exports.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext as _

from core.exports import table_download

from .models import Invoice


def _headings() -> list[str]:
    return [
        _("Invoice"),
        _("Period"),
        _("Invoice date"),
        _("Due date"),
        _("Payment terms (days net)"),
        _("Customer"),
        _("CVR number"),
        _("EAN number"),
        _("Reference person"),
        _("Total excl. VAT"),
        _("VAT"),
        _("Total incl. VAT"),
    ]


def _rows(invoices: QuerySet[Invoice]) -> Iterator[list[Any]]:
    """Text as str, money as Decimal, days as int, dates as dates: the writers keep each what it is."""
    for invoice in invoices.iterator(chunk_size=500):
        yield [
            invoice.number,
            invoice.period,
            invoice.issued_on,
            invoice.due_on,
            invoice.payment_terms_days,
            invoice.customer_name,
            invoice.cvr,
            invoice.ean,
            invoice.reference_person,
            invoice.total_excl_vat,
            invoice.vat,
            invoice.total_incl_vat,
        ]


def invoice_export(invoices: QuerySet[Invoice], fmt: str) -> HttpResponse:
    return table_download(fmt, "fakturaer", str(_("Invoices")), _headings(), _rows(invoices))
