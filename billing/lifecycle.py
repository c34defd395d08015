"""Billing's side of ordering/lifecycle.py: what ordering may ask of money, registered in BillingConfig.ready()."""

from __future__ import annotations

import datetime
from typing import Any

from ordering.models import AccessOrder, Addendum, ConsultingRequest, Customer

from . import addendum_wording, comparison, pricing, quotes, selectors, services
from .forms import ConsultingForm, QuoteAdjustmentForm, StartupUsageForm
from .models import RecurringFee


class BillingHooks:
    """Implements ordering.lifecycle.Billing."""

    def quote_freeze(self, *, addendum: Addendum) -> None:
        services.quote_freeze(addendum=addendum)

    def on_activate(self, *, order: AccessOrder, actor) -> None:
        services.billing_on_activate(order=order, actor=actor)

    def on_close(
        self, *, order: AccessOrder, actor, on: datetime.date, end_licence_ids: list[int] | None = None
    ) -> None:
        services.billing_on_close(order=order, actor=actor, on=on, end_licence_ids=end_licence_ids)

    def on_emergency_close(self, *, order: AccessOrder, actor, on: datetime.date) -> None:
        services.billing_on_emergency_close(order=order, actor=actor, on=on)

    def on_decline(self, *, order: AccessOrder, actor) -> None:
        services.billing_on_decline(order=order, actor=actor)

    def licences_offered_on_close(self, order: AccessOrder) -> list[RecurringFee]:
        return selectors.licences_only_this_access_uses(order)

    def quote_preview(
        self, *, customer: Customer, facts: dict
    ) -> tuple[pricing.Quote | None, comparison.Comparison | None]:
        return comparison.form_quotes(customer, facts)

    def addendum_quote(self, addendum: Addendum) -> pricing.Quote | None:
        return quotes.addendum_quote(addendum)

    def addendum_line_sentence(self, line: Any, *, system: str, package: str, interface_names: dict[str, str]) -> str:
        return addendum_wording.addendum_line_sentence(
            line, system=system, package=package, interface_names=interface_names
        )

    def order_section(self, order: AccessOrder, roles: set, *, interfaces: list) -> dict:
        section = selectors.billing_section(order, roles, interfaces=interfaces)
        section.update(
            adjust_form=QuoteAdjustmentForm(),
            startup_form=StartupUsageForm(initial={"meetings": 0, "qa_hours": 0}),
            consulting_form=ConsultingForm(),
        )
        return section

    def consulting_request_section(self, request: ConsultingRequest, roles: set) -> dict:
        section = selectors.consulting_request_section(request, roles)
        section["consulting_form"] = ConsultingForm()
        return section
