"""ordering no longer holds the audit trail (audit/ does, on the same tables): state only, no SQL."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ordering", "0022_audit_trail_moves_to_its_own_app"),
        ("audit", "0001_initial"),
        ("webhooks", "0002_event_in_the_audit_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="notification",
                    name="event",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notifications",
                        to="audit.auditevent",
                        verbose_name="audit event",
                    ),
                ),
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="AuditHead"),
            ]
        )
    ]
