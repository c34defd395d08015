"""Admin plumbing every app shares. core registers no models of its own here."""

import json
from collections.abc import Callable, Iterable

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.errors import Refusal


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through their services (orders, audit events, charges, certificates):
    the admin may look, never touch."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """The rows a read-only record is made of (invoice lines, a chain's certificates, a webhook's attempts):
    shown, never added, changed or removed here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def act_on_each(
    model_admin: admin.ModelAdmin, request, objects: Iterable, act: Callable, *, done: Callable[[int], str], name=str
) -> int:
    """An admin action's loop: `act(obj)` for each object, a refusal shown naming its object (`name(obj)`) without
    stopping the rest; then `done(count)` says how many were done, when any were. Returns that count."""
    count = 0
    for obj in objects:
        try:
            act(obj)
        except Refusal as refusal:
            model_admin.message_user(request, f"{name(obj)}: {refusal.message}", messages.ERROR)
            continue
        count += 1
    if count:
        model_admin.message_user(request, done(count), messages.SUCCESS)
    return count


def as_code(value) -> str:
    """A stored JSON document (a frozen quote, a validation report) as the machine record it is: in <pre>."""
    if value in (None, "", [], {}):
        return "–"
    return format_html("<pre>{}</pre>", json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


# Django stores a permission's name in English when it migrates ("Can add access order"); the admin shows
# the standard four in the reader's language instead, built from the model's (translated) name.
_PERMISSION_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission) -> str:
    """App, model and action, each in the reader's language: "Bestilling | bestilling | Kan tilføje bestilling"."""
    model = permission.content_type.model_class()
    if model is None:
        return str(permission)
    action, _sep, model_name = permission.codename.partition("_")
    name = permission.name
    if action in _PERMISSION_ACTIONS and model_name == model._meta.model_name:
        name = _PERMISSION_ACTIONS[action] % {"model": model._meta.verbose_name}
    return f"{model._meta.app_config.verbose_name} | {model._meta.verbose_name} | {name}"


class TranslatedPermissionsMixin:
    """For the user and group admins: permissions listed by permission_label."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.name in ("permissions", "user_permissions"):
            field.queryset = field.queryset.select_related("content_type")
            field.label_from_instance = permission_label
        return field
