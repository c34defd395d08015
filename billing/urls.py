from django.urls import path

from . import views

app_name = "billing"
urlpatterns = [
    path("orders/<int:pk>/quote/adjust/", views.quote_adjust_view, name="quote_adjust"),
    path("orders/<int:pk>/consulting/", views.consulting_view, name="consulting"),
    path("help/<int:pk>/consulting/", views.consulting_for_request_view, name="consulting_for_request"),
    path("orders/<int:pk>/startup-package/", views.startup_usage_view, name="startup_usage"),
    path("orders/<int:pk>/licences/<int:fee_pk>/end/", views.licence_end_view, name="licence_end"),
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/export.<str:fmt>", views.invoice_list_export, name="invoice_list_export"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/invoice.pdf", views.invoice_document, name="invoice_document"),
    path("licences/", views.licence_list, name="licence_list"),
    path("billing/runs/", views.run_list, name="run_list"),
    path("billing/runs/start/", views.run_start, name="run_start"),
    path("billing/runs/preview/", views.run_preview, name="run_preview"),
    path("billing/runs/<int:pk>/export.csv", views.run_export, name="run_export"),
]
