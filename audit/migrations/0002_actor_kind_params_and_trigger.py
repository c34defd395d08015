"""Who acted is a person or a named system job; what the app states is stored as parameters; on PostgreSQL the
table refuses UPDATE, DELETE and TRUNCATE again, under the audit app's names.

A superuser or the table's owner can still switch the trigger off; the keyed chain, the signed checkpoints
and the apps' cross-checks (audit/verification.py) are what detect that. SQLite (development only) has no
such trigger. Events recorded before keep their seal: the new fields are sealed only when they differ from
their defaults (AuditEvent.sealed_content).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


INSTALL = """
CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on audit_auditevent is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER audit_auditevent_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_append_only();

CREATE TRIGGER audit_auditevent_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_auditevent_append_only();
"""

REMOVE = """
DROP TRIGGER IF EXISTS audit_auditevent_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_auditevent_no_update_or_delete ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_auditevent_append_only();
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(INSTALL, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REMOVE, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('ordering', '0023_audit_trail_leaves_ordering'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='auditevent',
            name='actor_kind',
            field=models.CharField(choices=[('person', 'A person'), ('system', 'Opus Adgang, automatically')], default='person', max_length=10, verbose_name='actor kind'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='job',
            field=models.CharField(blank=True, help_text='The system job that acted.', max_length=60, verbose_name='job'),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='params',
            field=models.JSONField(blank=True, default=dict, verbose_name='parameters'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='comment',
            field=models.TextField(blank=True, help_text='What the person typed, as typed.', verbose_name='comment'),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('actor__isnull', False), ('actor_kind', 'person'), ('job', '')), models.Q(('actor__isnull', True), ('actor_kind', 'system'), models.Q(('job', ''), _negated=True)), _connector='OR'), name='audit_event_actor_is_a_person_or_a_job'),
        ),
        migrations.RunPython(install, remove),
    ]
