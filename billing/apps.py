from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")

    def ready(self) -> None:
        # Billing reacts to orders through the contract ordering owns (ordering/lifecycle.py).
        from ordering import lifecycle

        from . import audit
        from .lifecycle import BillingHooks

        lifecycle.register_billing(BillingHooks())
        audit.register()
