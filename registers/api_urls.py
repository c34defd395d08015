"""The registers' machine endpoints, mounted under /api/v1/ by api/urls.py."""

urlpatterns: list = []
