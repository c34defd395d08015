"""The invoice list's search and filters (django-filter, as the order list: ordering/filters.py).

The filter set only narrows what `invoices_visible_to(user)` already allows: its customer choices are the
customers the user is billed for or serves, so a filter never reaches another tenant's invoices (an id typed
into the query string that is not among the choices is a form error, and the filter is left out).
"""

from __future__ import annotations

from typing import ClassVar

import django_filters
from django.db.models import Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from ordering.filters import DateInput
from ordering.models import Customer

from .models import Invoice
from .selectors import customers_billed_for


def _customers(request) -> QuerySet[Customer]:
    user = request.user if request else None
    if user is None or not user.is_authenticated:
        return Customer.objects.none()
    return customers_billed_for(user).order_by("name")


class InvoiceFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"), method="search", help_text=_("Invoice number, customer, CVR number or EAN number.")
    )
    customer = django_filters.ModelChoiceFilter(label=_("Customer"), queryset=_customers, empty_label=_("All"))
    period = django_filters.ChoiceFilter(label=_("Period"), empty_label=_("All"), method="in_month")
    issued_from = django_filters.DateFilter(
        label=_("Invoice date from"), field_name="issued_on", lookup_expr="gte", widget=DateInput()
    )
    issued_to = django_filters.DateFilter(
        label=_("Invoice date until"), field_name="issued_on", lookup_expr="lte", widget=DateInput()
    )

    class Meta:
        model = Invoice
        fields: ClassVar[list[str]] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The months the user has invoices for, newest first: one small query, no month offered in vain.
        months = self.queryset.order_by("-period").values_list("period", flat=True).distinct()
        self.filters["period"].extra["choices"] = [
            (f"{month:%Y-%m}", formats.date_format(month, "YEAR_MONTH_FORMAT")) for month in months
        ]
        for field in self.form.fields.values():
            field.conditional = True  # every filter may be left empty; the form says so once

    def in_month(self, qs: QuerySet[Invoice], name: str, value: str) -> QuerySet[Invoice]:
        year, _dash, month = value.partition("-")
        return qs.filter(period__year=int(year), period__month=int(month))

    def search(self, qs: QuerySet[Invoice], name: str, value: str) -> QuerySet[Invoice]:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(number__icontains=value) | Q(customer_name__icontains=value) | Q(cvr=value) | Q(ean=value))
