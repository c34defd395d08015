from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig


class AdminConfig(DjangoAdminConfig):
    """The Django admin, on a site that only catalogue admins can log in to (config/admin_site.py)."""

    default_site = "config.admin_site.CatalogueAdminSite"
