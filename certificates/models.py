"""Certificate uploads, accepted bundles and the certificates in them."""

from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.choices import ChoiceLabels
from core.fields import optional, person
from ordering.models import AccessOrder

from .validation import NameParts, describe_name


class CertificateUpload(ChoiceLabels, models.Model):
    """One upload attempt, accepted or rejected: who, when, the file's name and size, and the findings.

    Nothing of the file itself is kept here. An accepted upload's chain is kept in its bundle, re-encoded.
    """

    class Verdict(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    order = models.ForeignKey(
        AccessOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="certificate_uploads"
    )
    uploaded_by = person(_("uploaded by"))
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    environment = models.CharField(_("environment"), max_length=12, choices=AccessOrder.Environment.choices)
    filename = models.CharField(_("file name"), max_length=255)
    size = models.PositiveIntegerField(_("size in bytes"))
    # For an accepted upload, the SHA-256 of the chain as stored (CertificateBundle.data, the canonical
    # PEM), not of the bytes sent: those may have carried what was not validated. Empty for every refused
    # upload, so nothing derived from a refused file – perhaps a private key – is kept.
    sha256 = models.CharField(_("SHA-256 of the stored chain"), max_length=64, blank=True)
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices)
    findings = models.JSONField(_("findings"), default=list)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        verbose_name = _("certificate upload")
        verbose_name_plural = _("certificate uploads")

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_verdict_display()})"

    def messages(self, language: str) -> list[dict]:
        key = "en" if language.startswith("en") else "da"
        return [{"code": f["code"], "severity": f["severity"], "message": f[key]} for f in self.findings]


class CertificateBundle(models.Model):
    """An accepted chain for an order. One is current; a rollover waits for the account manager."""

    class Status(models.TextChoices):
        CURRENT = "current", _("In use")
        PENDING = "pending", _("Awaiting confirmation")
        SUPERSEDED = "superseded", _("Superseded")

    order = models.ForeignKey(
        AccessOrder, verbose_name=_("order"), on_delete=models.PROTECT, related_name="certificate_bundles"
    )
    upload = models.OneToOneField(
        CertificateUpload, verbose_name=_("certificate upload"), on_delete=models.PROTECT, related_name="bundle"
    )
    environment = models.CharField(_("environment"), max_length=12, choices=AccessOrder.Environment.choices)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    # The accepted certificates re-encoded as PEM, leaf first (Certificate.pem in position order); never
    # the bytes as uploaded.
    data = models.BinaryField(_("the accepted chain as PEM"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    confirmed_by = person(_("confirmed by"), optional=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)
    # The chain a confirmed rollover put into use in this one's place (certificate_rollover_confirm). Empty for
    # the chain in use, and for one replaced before it was ever in use (a draft's, a waiting rollover's).
    replaced_by = optional("self", _("replaced by"), related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("certificate bundle")
        verbose_name_plural = _("certificate bundles")
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="current"), name="one_current_bundle_per_order"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="pending"), name="one_pending_bundle_per_order"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(reference)s: certificate chain %(number)s (%(status)s)") % {
            "reference": self.order.reference,
            "number": self.pk,
            "status": self.get_status_display(),
        }

    @property
    def leaf(self) -> "Certificate | None":
        return next((c for c in self.certificates.all() if c.role == Certificate.Role.LEAF), None)


class Certificate(ChoiceLabels, models.Model):
    class Role(models.TextChoices):
        LEAF = "leaf", _("System certificate")
        INTERMEDIATE = "intermediate", _("Issuing CA")
        ROOT = "root", _("Root CA")

    bundle = models.ForeignKey(
        CertificateBundle, verbose_name=_("certificate bundle"), on_delete=models.CASCADE, related_name="certificates"
    )
    position = models.PositiveSmallIntegerField(
        _("position in the chain"),
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices)
    pem = models.TextField(
        _("PEM"),
    )
    sha256 = models.CharField(_("SHA-256 fingerprint"), max_length=64, db_index=True)
    subject = models.TextField(_("subject"))
    issuer = models.TextField(_("issuer"))
    serial = models.CharField(_("serial number"), max_length=80)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid to"), db_index=True)
    key = models.CharField(_("key"), max_length=40)
    cvr = models.CharField(_("CVR number"), max_length=8, blank=True)

    class Meta:
        ordering = ["bundle", "position"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [models.UniqueConstraint(fields=["bundle", "sha256"], name="certificate_once_per_bundle")]

    def __str__(self) -> str:
        return self.subject

    @cached_property
    def name_parts(self) -> NameParts:
        return describe_name(self.subject)


class ExpiryNotice(models.Model):
    """An expiry warning sent for a bundle at one threshold, so each is sent once."""

    bundle = models.ForeignKey(
        CertificateBundle, verbose_name=_("certificate bundle"), on_delete=models.CASCADE, related_name="expiry_notices"
    )
    threshold_days = models.PositiveSmallIntegerField(
        _("days before expiry"),
    )
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("expiry notice")
        verbose_name_plural = _("expiry notices")
        constraints = [
            models.UniqueConstraint(fields=["bundle", "threshold_days"], name="expiry_notice_once_per_threshold")
        ]

    def __str__(self) -> str:
        days = ngettext("%(days)s day before expiry", "%(days)s days before expiry", self.threshold_days) % {
            "days": self.threshold_days
        }
        return f"{self.bundle} – {days}"
