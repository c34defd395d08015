"""The order list's search, filters and sorting, declared with django-filter rather than parsed by hand.

The filter set only narrows what `orders_visible_to(user)` already allows: its customer and system
choices are the user's own, so a filter can never reach another tenant's orders (and an id typed into
the query string that is not among the choices is a form error, ignored like a bad sort key).
"""

from __future__ import annotations

from typing import ClassVar

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.roles import is_support
from core.prepared import Prepared, given, prepared_choices

from .models import AccessOrder, Customer, ExternalSystem, State
from .selectors import Worklist, order_search, orders_visible_to, served_customers, with_times, worklists_of


def order_list_queryset(user) -> QuerySet[AccessOrder]:
    return with_times(orders_visible_to(user))


def _customers(request) -> QuerySet[Customer]:
    user = request.user if request else None
    if user is None or not user.is_authenticated:
        return Customer.objects.none()
    return _customer_choices(given(user=user.pk), is_support(user))


def _customer_choices(p, support: bool) -> QuerySet[Customer]:
    # What the filter validates against (_customers) and what it lists (_CUSTOMER_CHOICES): one rule.
    customers = Customer.objects.order_by("name")
    return customers if support else customers.filter(served_customers(p.user, ""))


def _systems(request) -> QuerySet[ExternalSystem]:
    user = request.user if request else None
    if user is None or not user.is_authenticated:
        return ExternalSystem.objects.none()
    return _system_choices(given(user=user.pk), is_support(user))


def _system_choices(p, support: bool) -> QuerySet[ExternalSystem]:
    systems = ExternalSystem.objects.select_related("vendor").order_by("name")  # its label names the vendor
    if support:
        return systems
    return systems.filter(Q(owner__isnull=True) | served_customers(p.user, "owner"))


# Every order list draws the choices: compiled once per process (core/prepared.py).
_CUSTOMER_CHOICES = Prepared(_customer_choices)
_SYSTEM_CHOICES = Prepared(_system_choices)


class StableOrderingFilter(django_filters.OrderingFilter):
    """Sorting by a whitelisted column, then by number, so pages never overlap or skip an order."""

    def filter(self, qs, value):
        if not value:
            return qs
        fields = [self.get_ordering_value(v) for v in value]
        tiebreak = "-pk" if fields[0].startswith("-") else "pk"
        return qs.order_by(*fields, tiebreak)


# The sortable columns: the query-string key of each, and what it sorts by. Nothing else is accepted.
SORT_KEYS = {
    "number": "pk",
    "customer": "customer__name",
    "system": "external_system__name",
    "environment": "environment",
    "state": "state",
    "created": "created_at",
    "waiting": "waiting_since",
    "changed": "updated_at",
}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%d")


class OrderFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        help_text=_("Order number, system, vendor, customer, CVR number or requisition number."),
    )
    state = django_filters.ChoiceFilter(label=_("State"), choices=State.choices, empty_label=_("All states"))
    customer = django_filters.ModelChoiceFilter(label=_("Customer"), queryset=_customers, empty_label=_("All"))
    environment = django_filters.ChoiceFilter(
        label=_("Environment"), choices=AccessOrder.Environment.choices, empty_label=_("All")
    )
    external_system = django_filters.ModelChoiceFilter(
        label=_("External system"), queryset=_systems, empty_label=_("All")
    )
    created_from = django_filters.DateFilter(
        label=_("Created from"), field_name="created_at", lookup_expr="date__gte", widget=DateInput()
    )
    created_to = django_filters.DateFilter(
        label=_("Created until"), field_name="created_at", lookup_expr="date__lte", widget=DateInput()
    )
    # One of the user's worklists ("Waiting for you" on the start page links here): the same selector decides.
    waiting = django_filters.ChoiceFilter(label=_("Waiting for you"), method="waiting_for", empty_label=_("All"))
    sort = StableOrderingFilter(fields=[(field, key) for key, field in SORT_KEYS.items()])

    class Meta:
        model = AccessOrder
        fields: ClassVar[list[str]] = []

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        self.worklists: dict[str, Worklist] = {wl.key: wl for wl in worklists_of(user)} if user else {}
        self.filters["waiting"].extra["choices"] = [(key, wl.label) for key, wl in self.worklists.items()]
        if user is not None and user.is_authenticated:
            shape = (is_support(user),)
            fields = self.form.fields
            prepared_choices(fields["customer"], lambda: _CUSTOMER_CHOICES.all(shape=shape, user=user.pk))
            prepared_choices(fields["external_system"], lambda: _SYSTEM_CHOICES.all(shape=shape, user=user.pk))
        # Every filter may be left empty; the form says so once, not "(optional)" on each field.
        for field in self.form.fields.values():
            field.conditional = True

    def waiting_for(self, qs: QuerySet[AccessOrder], name: str, value: str) -> QuerySet[AccessOrder]:
        worklist = self.worklists.get(value)
        return qs.filter(worklist.condition) if worklist else qs

    def search(self, qs: QuerySet[AccessOrder], name: str, value: str) -> QuerySet[AccessOrder]:
        return qs.filter(order_search(value)) if value.strip() else qs
