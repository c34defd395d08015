from django.urls import path

from . import consulting_views, incident_views, people_views, thread_views, views

app_name = "ordering"
urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/export.<str:fmt>", views.order_list_export, name="order_list_export"),
    path("orders/new/", views.order_create_view, name="order_create"),
    path("orders/new/preview/", views.order_form_preview, name="order_form_preview"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", views.order_edit_view, name="order_edit"),
    path("orders/<int:pk>/actions/<slug:action>/", views.order_transition, name="order_transition"),
    path(
        "orders/<int:pk>/emergency-closure-request/",
        views.order_request_emergency_closure_view,
        name="order_request_emergency_closure",
    ),
    path(
        "orders/<int:pk>/addenda/<int:version>/<str:copy>.pdf",
        views.addendum_document,
        name="addendum_document",
    ),
    path("orders/<int:pk>/addenda/<int:version>/status/", views.addendum_status, name="addendum_status"),
    path("orders/<int:pk>/addenda/<int:version>/render/", views.addendum_render_again_view, name="addendum_render"),
    path("orders/<int:pk>/access-clarification/", views.access_clarification_view, name="access_clarification"),
    path("orders/<int:pk>/messages/", thread_views.order_message_post_view, name="order_message_post"),
    path(
        "orders/<int:pk>/attachments/<int:attachment_pk>/",
        thread_views.order_message_attachment,
        name="order_message_attachment",
    ),
    path("orders/<int:pk>/test-access/extend/", views.test_access_extend_view, name="test_access_extend"),
    path("orders/<int:pk>/test-access/production/", views.order_from_test_access_view, name="order_from_test_access"),
    path("help/", consulting_views.request_list, name="consulting_list"),
    path("help/new/", consulting_views.request_create, name="consulting_create"),
    path("help/<int:pk>/", consulting_views.request_detail, name="consulting_detail"),
    path("people/", people_views.people_index, name="people_index"),
    path("customers/<int:pk>/people/", people_views.customer_people, name="customer_people"),
    path("invitations/<str:token>/", people_views.invitation, name="invitation"),
    path("support/incident-closure/", incident_views.incident_closure, name="incident_closure"),
    path("catalogue/", views.catalogue, name="catalogue"),
    path("systems/", views.system_list, name="system_list"),
    path("systems/new/", views.system_create_view, name="system_create"),
    path("systems/<int:pk>/", views.system_detail, name="system_detail"),
]
