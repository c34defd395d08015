"""What certificates record in the audit trail (audit/), and who is e-mailed about it."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from audit import vocabulary
from ordering import notifications
from ordering.transitions import Audience


class CertificateAuditKind(models.TextChoices):
    CERTIFICATE_UPLOADED = "certificate_uploaded", _("Certificate chain accepted")
    CERTIFICATE_REFUSED_PRIVATE_KEY = (
        "certificate_refused_private_key",
        _("Certificate upload refused: it contained a private key"),
    )
    CERTIFICATE_ROLLOVER_REQUESTED = "certificate_rollover_requested", _("New certificate uploaded for rollover")
    CERTIFICATE_ROLLOVER_CONFIRMED = "certificate_rollover_confirmed", _("New certificate put into use")


# What the certificate events state, in each reader's language ("2,8 KB", "04.12.2029").
SENTENCES = {
    "refused_size_bytes": gettext_noop("%(refused_file)s, %(refused_size_bytes)s."),
    "certificate_subject": gettext_noop("Certificate: %(certificate_subject)s."),
    "certificate_valid_to_on": gettext_noop("Valid to %(certificate_valid_to_on)s."),
}


def register() -> None:
    """Called by CertificatesConfig.ready()."""
    vocabulary.register_kinds("certificates", CertificateAuditKind)
    for param, template in SENTENCES.items():
        vocabulary.register_sentence(param, template)
    # Templates: ordering/email/<kind>_subject.txt, _body.txt, _body.html.
    notifications.notify_on(CertificateAuditKind.CERTIFICATE_ROLLOVER_REQUESTED, {Audience.ACCOUNT_MANAGER})
    notifications.notify_on(CertificateAuditKind.CERTIFICATE_ROLLOVER_CONFIRMED, {Audience.ORDERERS})
