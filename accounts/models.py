from datetime import timedelta

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import optional, person


class User(AbstractUser):
    """A person who logs in: customer staff or KMD staff.

    Customer roles (orderer, signatory) come from memberships of a customer; the account-manager
    role from being a customer's account manager; support is a flag on KMD staff.
    """

    title = models.CharField(_("job title"), max_length=120, blank=True)
    is_support = models.BooleanField(
        _("KMD Opus Personale support"),
        default=False,
        help_text=_("May read every order and emergency-close any access."),
    )

    may_use_password = models.BooleanField(
        _("may log in with a password (break-glass)"),
        default=False,
        help_text=_(
            "Outside the demo, people log in with MitID Erhverv or Entra ID; only KMD's named break-glass accounts "
            "may also use a password."
        ),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A secret that lets a program act through the API (/api/v1/) or read the access register.

    Only a SHA-256 of the token is stored: the token is shown once, when it is made, and cannot be
    read back. A token carries scopes; a personal token acts as its user, with that user's roles
    and never more. A gateway token belongs to no person: KMD's web-service gateway uses it to read
    the access register and nothing else. Tokens expire, and can be revoked at once.
    """

    class Scope(models.TextChoices):
        READ = "read", _("Read")
        ORDER = "order", _("Order (create, change, submit and withdraw orders; upload certificates)")
        REGISTER = "register", _("Read the access register (KMD's gateway)")

    class Kind(models.TextChoices):
        PERSONAL = "personal", _("Personal")
        GATEWAY = "gateway", _("Gateway")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.PERSONAL)
    user = optional(User, _("user"), related_name="api_tokens", on_delete=models.CASCADE)
    name = models.CharField(_("name"), max_length=100)
    # The first characters of the token, stored in the clear so the owner can tell tokens apart.
    prefix = models.CharField(_("prefix"), max_length=16)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = person(_("revoked by"), optional=True, on_delete=models.SET_NULL)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]
        constraints = [
            # A personal token has a person; a gateway token has none.
            models.CheckConstraint(
                name="api_token_kind_matches_user",
                condition=(models.Q(kind="personal", user__isnull=False) | models.Q(kind="gateway", user__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_labels(self) -> list[str]:
        """The scopes as their owner reads them, in the reader's language."""
        labels = dict(self.Scope.choices)
        return [str(labels.get(scope, scope)) for scope in self.scopes]

    @property
    def last_day(self):
        """The last day the token works, as chosen on the profile page: it expires at the midnight after it."""
        return timezone.localdate(self.expires_at - timedelta(microseconds=1))


class LoginIdentity(models.Model):
    """How a person logs in through an identity provider, and so how we recognise them when they return.

    MitID Erhverv (through a broker): the persistent professional UUID within the CVR number, never the
    e-mail address, which a person may change or share. NemLog-in may give a person a new UUID once (the same
    CVR and RID number): the login that shows it moves the identity to the new UUID (ordering/people.py).
    Entra ID (KMD's staff): the object id (`oid`) within the tenant (`tid`).
    """

    class Scheme(models.TextChoices):
        MITID_ERHVERV = "mitid_erhverv", _("MitID Erhverv")
        ENTRA_ID = "entra_id", _("Entra ID")

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="login_identities")
    scheme = models.CharField(_("login"), max_length=20, choices=Scheme.choices)
    issuer = models.CharField(_("issuer"), max_length=300)
    organisation = models.CharField(
        _("organisation"), max_length=64, help_text=_("The CVR number (MitID Erhverv) or the tenant (Entra ID).")
    )
    person = models.CharField(
        _("person"),
        max_length=64,
        help_text=_("The persistent professional UUID (MitID Erhverv) or the object id (Entra ID)."),
    )
    rid = models.CharField(_("RID number"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("first login"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("last login"), null=True, blank=True)

    class Meta:
        verbose_name = _("login identity")
        verbose_name_plural = _("login identities")
        constraints = [
            models.UniqueConstraint(fields=["scheme", "organisation", "person"], name="one_identity_per_person"),
        ]
        indexes = [models.Index(fields=["scheme", "organisation", "rid"], name="login_identity_rid")]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} {self.organisation}/{self.person}"
