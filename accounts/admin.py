from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = DjangoUserAdmin.fieldsets + ((_("Opus Adgang"), {"fields": ("title", "is_support")}),)
    list_display = ("username", "email", "first_name", "last_name", "is_support", "is_staff")
    list_filter = ("is_support", "is_staff", "is_superuser", "is_active")
