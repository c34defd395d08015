from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig
from django.utils.translation import gettext_lazy as _


class ProjectConfig(AppConfig):
    """The project itself, on top of every app: commands that span them all (seed_demo) live here."""

    name = "config"
    verbose_name = _("Opus Adgang")


class AdminConfig(DjangoAdminConfig):
    """The Django admin, on a site that only catalogue admins can log in to (config/admin_site.py)."""

    default_site = "config.admin_site.CatalogueAdminSite"
