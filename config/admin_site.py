from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
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


class CatalogueAdminSite(AdminSite):
    login_form = CatalogueAdminLoginForm

    def has_permission(self, request: HttpRequest) -> bool:
        return is_catalogue_admin(request.user)
