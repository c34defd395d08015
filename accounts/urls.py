from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("session/extend/", views.session_extend, name="session_extend"),
    path("profile/tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
]
