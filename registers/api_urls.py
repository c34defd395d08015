"""The registers' machine endpoints, mounted under /api/v1/ by api/urls.py."""

from django.urls import path

from .views import AccessRegisterView

urlpatterns: list = [
    path("access-register", AccessRegisterView.as_view(), name="access_register"),
]
