"""The audit trail moves into its own app (audit/): its tables are renamed, its rows stay as they are.

Nothing in an event changes, so every seal, the head and every signed checkpoint written before still
verify. On PostgreSQL the append-only trigger is dropped here with its old name and installed again on the
renamed table by audit's 0002, after that migration's new columns; both run in one transaction each.
"""

from django.db import migrations

DROP_TRIGGER = """
DROP TRIGGER IF EXISTS ordering_auditevent_no_truncate ON ordering_auditevent;
DROP TRIGGER IF EXISTS ordering_auditevent_no_update_or_delete ON ordering_auditevent;
DROP FUNCTION IF EXISTS ordering_auditevent_append_only();
"""


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER, params=None)


class Migration(migrations.Migration):
    dependencies = [("ordering", "0021_consulting_requests")]

    operations = [
        migrations.RunPython(drop_trigger, migrations.RunPython.noop),
        migrations.AlterModelTable(name="auditevent", table="audit_auditevent"),
        migrations.AlterModelTable(name="audithead", table="audit_audithead"),
    ]
