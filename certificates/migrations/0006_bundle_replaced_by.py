"""A replaced bundle names its successor (CertificateBundle.replaced_by), instead of being recognised by two equal
timestamps. Existing data: a bundle superseded at the very moment another bundle of its order was confirmed
(certificate_rollover_confirm set both from one `now`) was replaced by that bundle; any other superseded bundle
was replaced before it was in use and names none."""

import django.db.models.deletion
from django.db import migrations, models


def link_rollovers(apps, schema_editor):
    CertificateBundle = apps.get_model("certificates", "CertificateBundle")
    replaced = CertificateBundle.objects.filter(superseded_at__isnull=False, replaced_by__isnull=True)
    for bundle in replaced.only("pk", "order_id", "superseded_at").iterator():
        successor = (
            CertificateBundle.objects.filter(order_id=bundle.order_id, confirmed_at=bundle.superseded_at)
            .exclude(pk=bundle.pk)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        if successor is not None:
            CertificateBundle.objects.filter(pk=bundle.pk).update(replaced_by_id=successor)


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0005_translated_field_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificatebundle",
            name="replaced_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="certificates.certificatebundle",
                verbose_name="replaced by",
            ),
        ),
        # Backwards, the column goes with the field; nothing to undo first.
        migrations.RunPython(link_rollovers, migrations.RunPython.noop),
    ]
