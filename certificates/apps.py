from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Certificates")

    def ready(self) -> None:
        # What ordering asks about certificates goes through the contract it owns (ordering/lifecycle.py).
        from ordering import lifecycle

        from . import audit
        from .lifecycle import CertificateHooks

        lifecycle.register_certificates(CertificateHooks())
        audit.register()
