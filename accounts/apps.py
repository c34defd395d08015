from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users")

    def ready(self) -> None:
        from . import audit, checks, signals  # noqa: F401  (registers the checks, connects the receivers)

        audit.register()
