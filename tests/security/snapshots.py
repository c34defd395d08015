"""What a refused action must leave exactly as it was: the order, its addenda, and everything billed from it."""

from billing.models import Charge, QuoteAdjustment, RecurringFee, StartupPackage
from ordering.models import AccessOrder

from ..ordering.test_lifecycle import snapshot as order_snapshot


def snapshot(order) -> tuple:
    stored = AccessOrder.objects.get(pk=order.pk)
    return (
        order_snapshot(order),
        (stored.activated_on, stored.closed_on, stored.note, stored.requisition_number, stored.emergency_reason),
        list(stored.addenda.values_list("version", "status", "signer_name", "signer_title", "decline_reason")),
        list(Charge.objects.filter(order=order).values_list("pk", "amount", "hours", "booked_on")),
        list(RecurringFee.objects.filter(order=order).values_list("pk", "starts_on", "ends_on")),
        list(QuoteAdjustment.objects.filter(order=order).values_list("pk", "amount", "reason")),
        list(StartupPackage.objects.filter(order=order).values_list("meetings_used", "qa_hours_used")),
    )
