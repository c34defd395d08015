"""On PostgreSQL the audit table refuses UPDATE, DELETE and TRUNCATE, whoever asks.

A superuser or the table's owner can still switch the trigger off; the keyed chain, the signed
checkpoints and the order cross-check (ordering/audit.py) are what detect that. SQLite (development
only) has no such trigger.
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION ordering_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on ordering_auditevent is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER ordering_auditevent_no_update_or_delete
    BEFORE UPDATE OR DELETE ON ordering_auditevent
    FOR EACH ROW EXECUTE FUNCTION ordering_auditevent_append_only();

CREATE TRIGGER ordering_auditevent_no_truncate
    BEFORE TRUNCATE ON ordering_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION ordering_auditevent_append_only();
"""

REMOVE = """
DROP TRIGGER IF EXISTS ordering_auditevent_no_truncate ON ordering_auditevent;
DROP TRIGGER IF EXISTS ordering_auditevent_no_update_or_delete ON ordering_auditevent;
DROP FUNCTION IF EXISTS ordering_auditevent_append_only();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):
    dependencies = [("ordering", "0005_audit_chain_keyed")]

    operations = [migrations.RunPython(install, remove)]
