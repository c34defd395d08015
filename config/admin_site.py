from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.db.models.base import ModelBase
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.roles import is_catalogue_admin
from core.security import SecurityEvent, security_event


class CatalogueAdminLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "not_catalogue_admin": _(
            "Only catalogue admins can log in to the administration. Use Opus Adgang's front page instead."
        ),
    }

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)
        if not is_catalogue_admin(user):
            security_event(self.request, SecurityEvent.ADMIN_LOGIN_REFUSED, username=user.get_username())
            raise ValidationError(self.error_messages["not_catalogue_admin"], code="not_catalogue_admin")


# django-allauth's and the sites framework's own models: logins are configured by environment variables
# (docs/login.md), and what the app keeps about a person's logins is on the user (accounts.LoginIdentity).
NOT_IN_THE_ADMIN = {"account", "socialaccount", "sites"}


class CatalogueAdminSite(AdminSite):
    login_form = CatalogueAdminLoginForm

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else list(model_or_iterable)
        kept = [model for model in models if model._meta.app_label not in NOT_IN_THE_ADMIN]
        if kept:
            super().register(kept, admin_class, **options)

    def has_permission(self, request: HttpRequest) -> bool:
        return is_catalogue_admin(request.user)
