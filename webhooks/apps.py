from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        # Registers the outbox handler in every process (the worker's too), and offers every new audit
        # event to the endpoints. A signal, because ordering sits below webhooks and must not import it.
        from audit.models import AuditEvent

        from . import audit, checks, services  # noqa: F401  (checks: registers the checks)

        audit.register()

        post_save.connect(services.on_audit_event, sender=AuditEvent, dispatch_uid="webhooks.on_audit_event")
