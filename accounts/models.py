from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


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

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username
