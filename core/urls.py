from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("support/outbox/", views.outbox_dead_letters, name="outbox_dead_letters"),
    path("support/outbox/<int:pk>/send-again/", views.outbox_send_again_view, name="outbox_send_again"),
]
