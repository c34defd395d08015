"""Billing rows the billing tests start from, made directly (not through an order's services)."""

from decimal import Decimal

from billing.models import RecurringFee


def package_fee(order, *, start, end=None, monthly: str = "3100.00", customer=None) -> RecurringFee:
    """A monthly package fee of `order` from `start` (through `end`), billed to its customer unless told otherwise."""
    return RecurringFee.objects.create(
        customer=customer or order.customer,
        order=order,
        kind=RecurringFee.Kind.PACKAGE,
        description_da="Vagtplanpakke",
        description_en="Rostering package",
        monthly_fee=Decimal(monthly),
        starts_on=start,
        ends_on=end,
    )
