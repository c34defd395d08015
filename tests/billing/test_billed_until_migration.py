"""Migration 0003: fees billed before it get the mark of how far they were invoiced, from their lines."""

import datetime
import importlib
from decimal import Decimal

from django.apps import apps

from billing import services as billing
from billing.models import InvoiceLine, RecurringFee
from tests.billing.builders import package_fee
from tests.conftest import make_order

migration = importlib.import_module("billing.migrations.0003_billed_until")
day = datetime.date


def test_fees_billed_before_the_mark_existed_go_on_billing_and_crediting_as_before(cast):
    order = make_order(cast, "draft")

    def fee(start, end=None):
        return package_fee(order, start=start, end=end)

    running, ended, not_started = fee(day(2026, 1, 1)), fee(day(2026, 1, 1), day(2026, 2, 14)), fee(day(2026, 6, 1))
    retroactively_ended = fee(day(2026, 1, 1))
    for month in (1, 2, 3):
        billing.billing_run(period=day(2026, month, 1))
    RecurringFee.objects.filter(pk=retroactively_ended.pk).update(ends_on=day(2026, 2, 15))
    RecurringFee.objects.update(billed_until=None)  # as every fee was before the migration

    migration.mark_how_far_fees_are_billed(apps, None)

    marks = dict(RecurringFee.objects.values_list("pk", "billed_until"))
    assert marks[running.pk] == day(2026, 4, 1)
    assert marks[not_started.pk] is None
    # Billed into their end month: the next run checks those lines once more, and credits the retroactive end.
    assert (marks[ended.pk], marks[retroactively_ended.pk]) == (day(2026, 3, 1), day(2026, 4, 1))
    billing.billing_run(period=day(2026, 4, 1))
    april = InvoiceLine.objects.filter(invoice__period=day(2026, 4, 1))
    assert sorted((line.recurring_fee_id, line.kind, line.amount) for line in april) == sorted(
        [
            (running.pk, "recurring", Decimal("3100.00")),
            (retroactively_ended.pk, "correction", Decimal("1550.00") - Decimal("3100.00")),
            (retroactively_ended.pk, "correction", Decimal("-3100.00")),
        ]
    )
    assert RecurringFee.objects.get(pk=ended.pk).billed_until == day(2026, 2, 14)  # checked: nothing to credit


def test_migrating_back_drops_the_mark_with_its_column():
    add_field, backfill = migration.Migration.operations
    assert add_field.name == "billed_until" and backfill.reverse_code is backfill.noop
