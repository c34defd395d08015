import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("ordering", "0003_addendum_accepted_sha256_addendum_final_pdf_and_more"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField(model_name="auditevent", old_name="transition", new_name="kind"),
        migrations.AddField(
            model_name='auditevent',
            name='subject_id',
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddField(
            model_name='auditevent',
            name='subject_type',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='contenttypes.contenttype'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='actor',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='actor_role',
            field=models.CharField(blank=True, choices=[('orderer', 'Orderer'), ('signatory', 'Signatory'), ('account_manager', 'Account manager'), ('support', 'Support'), ('catalogue_admin', 'Catalogue administrator')], max_length=20, verbose_name='role'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='comment',
            field=models.TextField(blank=True, verbose_name='comment'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='created_at',
            field=models.DateTimeField(verbose_name='time'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='from_state',
            field=models.CharField(blank=True, max_length=20, verbose_name='from'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='kind',
            field=models.CharField(choices=[('create', 'Order created'), ('edit', 'Draft changed'), ('submit', 'Submitted'), ('return_for_changes', 'Returned for changes'), ('reject', 'Rejected'), ('withdraw', 'Withdrawn'), ('issue_addendum', 'Contract addendum issued'), ('revise', 'New addendum version issued'), ('accept', 'Addendum accepted'), ('decline', 'Addendum declined'), ('activate', 'Access established'), ('request_closure', 'Closure requested'), ('close', 'Access closed'), ('emergency_close', 'Emergency-closed'), ('addendum_render_again', 'Addendum document generated again'), ('certificate_uploaded', 'Certificate chain accepted'), ('certificate_refused_private_key', 'Certificate upload refused: it contained a private key'), ('certificate_rollover_requested', 'New certificate uploaded for rollover'), ('certificate_rollover_confirmed', 'New certificate put into use'), ('quote_adjusted', 'Price adjusted'), ('consulting_recorded', 'Consulting hours recorded'), ('startup_usage_recorded', 'Use of the start-up package recorded'), ('licence_ended', 'Licence ended'), ('price_list_changed', 'Price list created or changed')], max_length=40, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='order',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='ordering.accessorder', verbose_name='order'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='seq',
            field=models.PositiveBigIntegerField(unique=True, verbose_name='number'),
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='to_state',
            field=models.CharField(blank=True, max_length=20, verbose_name='to'),
        ),
        migrations.AddConstraint(
            model_name='auditevent',
            constraint=models.CheckConstraint(condition=models.Q(('order__isnull', False), ('subject_type__isnull', False), _connector='OR'), name='audit_event_is_about_something'),
        ),
        ]
