from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.contrib.auth.models import Group
from django.utils.text import format_lazy
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, ReadOnlyInline, TranslatedPermissionsMixin, act_on_each

from .models import ApiToken, LoginIdentity, User
from .tokens import token_revoke


class PasswordChangeForm(AdminPasswordChangeForm):
    """Django's, with its help text in the reader's language: Django joins it into one string when it is
    imported, in whichever language is active then, and leaves its last sentence untranslated."""

    usable_password_help_text = format_lazy(
        "{}{}",
        SetUnusablePasswordMixin.usable_password_help_text,
        format_lazy(
            '<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
            _("If disabled, the current password for this user will be lost."),
        ),
    )


class LoginIdentityInline(ReadOnlyInline):
    """How the person logs in (MitID Erhverv or Entra ID): made by their logins, never here."""

    model = LoginIdentity
    fields = ("scheme", "organisation", "person", "rid", "issuer", "created_at", "last_login_at")


@admin.register(User)
class UserAdmin(TranslatedPermissionsMixin, DjangoUserAdmin):
    change_password_form = PasswordChangeForm
    inlines = [LoginIdentityInline]
    fieldsets = DjangoUserAdmin.fieldsets + (
        (_("Opus Adgang"), {"fields": ("title", "is_support", "may_use_password")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "is_support", "is_staff")
    list_filter = ("is_support", "is_staff", "is_superuser", "is_active")


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(TranslatedPermissionsMixin, DjangoGroupAdmin):
    pass


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Every token, personal and gateway; made on the profile page or by `manage.py create_gateway_token`,
    never here, and never changed: the admin can only revoke. The hash is not shown at all."""

    list_display = (
        "name",
        "prefix",
        "kind",
        "user",
        "scopes",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    )
    list_filter = ("kind", "revoked_at")
    search_fields = ("name", "prefix", "user__username")
    fields = list_display  # the change page shows what the list does, all of it read-only
    readonly_fields = fields
    actions = ["revoke"]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_staff and super().has_view_permission(request, obj)

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request, queryset) -> None:

        def revoke(token: ApiToken) -> None:
            token_revoke(token=token, actor=request.user)
            # Who revoked which token, in the admin's history beside its other changes.
            self.log_change(request, token, gettext("Revoked."))

        act_on_each(
            self,
            request,
            queryset.filter(revoked_at__isnull=True),
            revoke,
            done=lambda n: ngettext("%(count)d token was revoked.", "%(count)d tokens were revoked.", n) % {"count": n},
        )
