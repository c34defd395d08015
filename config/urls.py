from django.contrib import admin
from django.urls import include, path

from core import health
from ordering import login
from ordering import views as ordering_views
from registers import views as registers_views

# An unhandled error: Django's 500 page, or the 503 with Retry-After while the database is unreachable.
handler500 = "config.outage.server_error"

admin.site.site_header = "Opus Adgang – administration"

urlpatterns = [
    path("", ordering_views.home, name="home"),
    path("login/", login.LoginPage.as_view(), name="login"),
    # MitID Erhverv and Entra ID (ordering/login.py), under the names django-allauth reverses.
    path("login/oidc/<str:provider_id>/", login.oidc_login, name="openid_connect_login"),
    path("login/oidc/<str:provider_id>/callback/", login.oidc_callback, name="openid_connect_callback"),
    path("logout/", login.LogoutPage.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    # For the load balancer and monitoring (core/health.py); exempt from the HTTPS redirect (settings).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # The access register's signing keys (JWKS), where KMD's gateway fetches them (README.md).
    path(".well-known/opus-adgang-register-keys.json", registers_views.register_keys, name="access_register_keys"),
    path("api/", include("api.urls")),
    path("", include("accounts.urls")),
    path("", include("ordering.urls")),
    path("", include("certificates.urls")),
    path("", include("billing.urls")),
    path("", include("registers.urls")),
    path("", include("webhooks.urls")),
    path("", include("core.urls")),
]
