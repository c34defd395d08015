"""The audit trail's tables, as ordering left them (ordering 0022 renamed them): state only, no SQL."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("ordering", "0022_audit_trail_moves_to_its_own_app"),
    ]

    state_operations = [
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("seq", models.PositiveBigIntegerField(unique=True, verbose_name="number")),
                ("kind", models.CharField(max_length=40, verbose_name="kind")),
                ("subject_id", models.CharField(blank=True, max_length=40, verbose_name="subject id")),
                ("from_state", models.CharField(blank=True, max_length=20, verbose_name="from")),
                ("to_state", models.CharField(blank=True, max_length=20, verbose_name="to")),
                ("actor_role", models.CharField(blank=True, max_length=20, verbose_name="role")),
                ("created_at", models.DateTimeField(verbose_name="time")),
                ("comment", models.TextField(blank=True, verbose_name="comment")),
                ("prev_hash", models.CharField(max_length=64, verbose_name="previous hash")),
                ("hash", models.CharField(max_length=64, unique=True, verbose_name="hash")),
                (
                    "actor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "order",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="ordering.accessorder",
                        verbose_name="order",
                    ),
                ),
                (
                    "subject_type",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contenttypes.contenttype",
                        verbose_name="subject type",
                    ),
                ),
            ],
            options={
                "verbose_name": "audit event",
                "verbose_name_plural": "audit events",
                "ordering": ["seq"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("order__isnull", False), ("subject_type__isnull", False), _connector="OR"),
                        name="audit_event_is_about_something",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="AuditHead",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False, verbose_name="ID"),
                ),
                ("seq", models.PositiveBigIntegerField(default=0, verbose_name="number")),
                ("hash", models.CharField(default="0" * 64, max_length=64, verbose_name="hash")),
            ],
            options={"verbose_name": "audit trail head", "verbose_name_plural": "audit trail heads"},
        ),
    ]

    operations = [migrations.SeparateDatabaseAndState(state_operations=state_operations)]
