from django.apps import AppConfig


class OrderingConfig(AppConfig):
    name = "ordering"
    verbose_name = "Bestilling"

    def ready(self) -> None:
        # Registers the outbox handlers (e-mails, addendum documents) in every process, the worker's too.
        from . import notifications, services  # noqa: F401
