from django.urls import path

from . import views

app_name = "certificates"
urlpatterns = [
    path("orders/<int:pk>/certificates/upload/", views.certificate_upload_view, name="upload"),
    path("orders/<int:pk>/certificates/confirm/", views.rollover_confirm_view, name="confirm_rollover"),
    path("orders/<int:pk>/certificates/<int:bundle_pk>/chain.pem", views.chain_download, name="chain_download"),
    path("certificates/expiring/", views.expiring_view, name="expiring"),
]
