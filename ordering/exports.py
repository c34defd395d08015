"""The order list as CSV (Danish Excel) and XLSX: the same columns, every text cell formula-safe (core/exports.py)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exports import table_download

from .models import AccessOrder


def _headings() -> list[str]:
    return [
        _("Order"),
        _("Customer"),
        _("CVR number"),
        _("External system"),
        _("Vendor"),
        _("Environment"),
        _("State"),
        _("Requisition number"),
        _("Created"),
        _("Waiting since"),
        _("Days in this state"),
        _("Last changed"),
    ]


def _days(since: datetime.datetime, now: datetime.datetime) -> Decimal:
    seconds = Decimal((now - since) // datetime.timedelta(seconds=1))
    return (seconds / Decimal(86400)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _rows(orders: QuerySet[AccessOrder]) -> Iterator[list[Any]]:
    """Text as str, numbers as Decimal or int, times as aware datetimes: the writers make the text safe, keep
    the numbers numbers and write the times in Copenhagen's time (core/exports.py)."""
    now = timezone.now()
    for order in orders.iterator(chunk_size=500):
        yield [
            order.reference,
            order.customer.name,
            order.customer.cvr,
            order.external_system.name,
            order.external_system.vendor.name,
            order.get_environment_display(),
            order.get_state_display(),
            order.requisition_number,
            order.created_at,
            order.waiting_since,
            _days(order.waiting_since, now),
            order.updated_at,
        ]


def order_export(orders: QuerySet[AccessOrder], fmt: str) -> HttpResponse:
    return table_download(fmt, "bestillinger", str(_("Orders")), _headings(), _rows(orders))
