from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrderingConfig(AppConfig):
    name = "ordering"
    verbose_name = _("Ordering")

    def ready(self) -> None:
        # Registers the outbox handlers (e-mails, addendum documents) in every process, the worker's too, and
        # what ordering's audit events mean (ordering/audit.py).
        from . import audit, notifications, services  # noqa: F401

        audit.register()
