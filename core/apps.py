from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every feature app shares and none owns: the outbox, form tokens, the error model."""

    name = "core"
    verbose_name = _("Shared services")

    def ready(self) -> None:
        # The outbox hands rows to its delivery task by name (core/outbox.py): register it in every process.
        from . import audit, tasks  # noqa: F401

        audit.register()
