"""Freeze the interfaces of package orders that already have a contract addendum.

From now on a package order's interfaces are fixed when each version of its addendum is issued
(ordering.services._issue_new_version), so a catalogue admin's later change to the package grants no
access anything its signatory did not accept. Orders issued before this change have no frozen set: they
get the interfaces their package holds now. That is the best knowledge we have, not proof of what was
accepted — the package may have been changed since; the accepted addendum PDF (its SHA-256 is recorded)
remains the record of what was signed. Orders still being chosen (draft, submitted) and orders that ended
without an addendum binding them (withdrawn, rejected) keep reading the package
(ordering.models.PACKAGE_READ_LIVE_STATES) and are not touched.
"""

from django.db import migrations

# ordering.models.PACKAGE_READ_LIVE_STATES as it is at this migration.
PACKAGE_READ_LIVE_STATES = ("draft", "submitted", "withdrawn", "rejected")


def freeze(apps, schema_editor):
    AccessOrder = apps.get_model("ordering", "AccessOrder")
    Through = AccessOrder.interfaces.through
    PackageThrough = apps.get_model("ordering", "IntegrationPackage").interfaces.through
    orders = AccessOrder.objects.filter(purchase_model="package", package__isnull=False).exclude(
        state__in=PACKAGE_READ_LIVE_STATES
    )
    in_package: dict[int, list[int]] = {}
    for package_id, interface_id in PackageThrough.objects.values_list("integrationpackage_id", "interface_id"):
        in_package.setdefault(package_id, []).append(interface_id)
    for order_id, package_id in orders.values_list("pk", "package_id").iterator():
        # Replace whatever the order holds: until now a package order had no interfaces of its own.
        Through.objects.filter(accessorder_id=order_id).delete()
        Through.objects.bulk_create(
            [Through(accessorder_id=order_id, interface_id=i) for i in in_package.get(package_id, [])]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ordering", "0015_translated_field_labels"),
    ]

    operations = [
        migrations.RunPython(freeze, migrations.RunPython.noop),
    ]
