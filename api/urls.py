"""The machine interface under /api/: the versioned REST API, its OpenAPI schema and documentation."""

from django.urls import include, path, re_path
from rest_framework.permissions import AllowAny

from . import views

app_name = "api"

v1 = [
    path("catalogue/interfaces/", views.InterfaceList.as_view(), name="interfaces"),
    path("catalogue/external-systems/", views.ExternalSystemList.as_view(), name="external_systems"),
    path("catalogue/packages/", views.PackageList.as_view(), name="packages"),
    path("orders/", views.OrderList.as_view(), name="orders"),
    path("orders/<int:pk>/", views.OrderDetail.as_view(), name="order"),
    path("orders/<int:pk>/submit/", views.OrderSubmit.as_view(), name="order_submit"),
    path("orders/<int:pk>/withdraw/", views.OrderWithdraw.as_view(), name="order_withdraw"),
    path("orders/<int:pk>/actions/<str:action>/", views.OrderLifecycleAction.as_view(), name="order_action"),
    path("orders/<int:pk>/certificates/", views.CertificateUpload.as_view(), name="certificate_upload"),
    path("orders/<int:pk>/messages/", views.OrderMessageList.as_view(), name="order_messages"),
    path("orders/<int:pk>/addenda/<int:version>/pdf/", views.AddendumPdf.as_view(), name="addendum_document"),
    path(
        "orders/<int:pk>/addenda/<int:version>/accepted-pdf/",
        views.AddendumAcceptedPdf.as_view(),
        name="addendum_accepted",
    ),
    path("invoices/", views.InvoiceList.as_view(), name="invoices"),
    path("invoices/<int:pk>/", views.InvoiceDetail.as_view(), name="invoice"),
]

urlpatterns = [
    # The schema and its documentation are public: they describe the API, they open nothing.
    path("schema/", views.SchemaView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/",
        views.SchemaDocsView.as_view(url_name="api:schema", permission_classes=[AllowAny]),
        name="docs",
    ),
    path("v1/", include(v1)),
    path("v1/", include("registers.api_urls")),
    # Last: any other address under /api/ is a problem (404), not the site's HTML page: also one whose path
    # holds a line break (%0A), which "." alone would not match.
    re_path(r"^[\s\S]*$", views.api_not_found),
]
