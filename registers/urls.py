"""The registers' pages for people: the controller's register (registers/controller_views.py)."""

from django.urls import path

from . import controller_views

app_name = "registers"
urlpatterns = [
    path("registers/", controller_views.register_index, name="controller_register_index"),
    path("customers/<int:pk>/register/", controller_views.register_page, name="controller_register"),
    path("customers/<int:pk>/register.csv", controller_views.register_download_csv, name="controller_register_csv"),
    path("customers/<int:pk>/register.pdf", controller_views.register_download_pdf, name="controller_register_pdf"),
]
