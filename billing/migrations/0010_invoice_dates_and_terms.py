"""Invoices get an invoice date, payment terms and a due date (issue #22): what a public customer's invoice must say.

Invoices made before this change are dated the day they were made (in Copenhagen) with the terms in force now
(settings.INVOICE_PAYMENT_TERMS_DAYS, 30 days net by default): no invoice changes amount or lines.
"""

import datetime

import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

import billing.models


def date_existing(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    terms = settings.INVOICE_PAYMENT_TERMS_DAYS
    for invoice in Invoice.objects.filter(issued_on__isnull=True).only("pk", "created_at").iterator():
        issued_on = timezone.localdate(invoice.created_at)
        Invoice.objects.filter(pk=invoice.pk).update(
            issued_on=issued_on, payment_terms_days=terms, due_on=issued_on + datetime.timedelta(days=terms)
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0009_shared_fees_of_orders_in_flight")]

    operations = [
        migrations.AddField(
            model_name="invoice", name="issued_on", field=models.DateField(null=True, verbose_name="invoice date")
        ),
        migrations.AddField(
            model_name="invoice",
            name="payment_terms_days",
            field=models.PositiveSmallIntegerField(null=True, verbose_name="payment terms (days net)"),
        ),
        migrations.AddField(
            model_name="invoice", name="due_on", field=models.DateField(null=True, verbose_name="due date")
        ),
        migrations.RunPython(date_existing, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="invoice",
            name="issued_on",
            field=models.DateField(default=django.utils.timezone.localdate, verbose_name="invoice date"),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="payment_terms_days",
            field=models.PositiveSmallIntegerField(
                default=billing.models.payment_terms_days_now, verbose_name="payment terms (days net)"
            ),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="due_on",
            field=models.DateField(default=billing.models.due_date_now, verbose_name="due date"),
        ),
    ]
