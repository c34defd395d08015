import json

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.roles import is_catalogue_admin
from audit import vocabulary
from core.admin import ReadOnlyAdmin, ReadOnlyInline, act_on_each

from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from .services import webhook_endpoint_rotate_secret, webhook_endpoint_save, webhook_redeliver


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        label=_("URL"), max_length=500, assume_scheme="https", widget=forms.URLInput(attrs={"class": "vURLField"})
    )
    kinds = forms.MultipleChoiceField(
        label=capfirst(_("event kinds")),
        choices=vocabulary.published_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every kind of event."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "description", "customer", "kinds", "is_active")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "description", "customer", "is_active", "created_at")
    list_filter = ("is_active", ("customer", admin.RelatedOnlyFieldListFilter))
    search_fields = ("url", "description", "customer__name", "customer__cvr")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer",)
    actions = ["rotate_secret"]

    def get_readonly_fields(self, request, obj=None):
        # The secret is made when the endpoint is saved; from then on it is shown here, for the receiver's owner.
        return ("secret_code", "created_at") if obj is not None else ()

    def get_fields(self, request, obj=None):
        fields = ["url", "description", "customer", "kinds", "is_active"]
        return fields + ["secret_code", "created_at"] if obj is not None else fields

    @admin.display(description=_("signing secret"))
    def secret_code(self, endpoint):
        return format_html("<code>{}</code>", endpoint.secret)

    def save_model(self, request, obj, form, change):
        saved = webhook_endpoint_save(endpoint=obj, actor=request.user)
        if saved.secret_renewed:
            # The audit trail records the new secret (webhooks/services.py); the admin's own "Changed …" line
            # records the fields.
            self.message_user(
                request,
                ngettext(
                    "The customer or URL changed, so the endpoint has a new signing secret and %(count)d waiting "
                    "webhook was cancelled. Open the endpoint to read the secret and give it to the receiver's owner.",
                    "The customer or URL changed, so the endpoint has a new signing secret and %(count)d waiting "
                    "webhooks were cancelled. Open the endpoint to read the secret and give it to the receiver's owner.",
                    saved.cancelled,
                )
                % {"count": saved.cancelled},
                messages.WARNING,
            )

    def has_rotate_secret_permission(self, request) -> bool:
        return is_catalogue_admin(request.user)

    @admin.action(description=_("Rotate secret"), permissions=["rotate_secret"])
    def rotate_secret(self, request, queryset):
        # The audit trail records who rotated which secret (webhooks/services.py).
        act_on_each(
            self,
            request,
            queryset,
            lambda endpoint: webhook_endpoint_rotate_secret(endpoint=endpoint, actor=request.user),
            done=lambda n: (
                ngettext(
                    "%(count)d endpoint has a new signing secret. Open it to read the secret and give it to the "
                    "receiver's owner: webhooks are signed with the new secret from now on.",
                    "%(count)d endpoints have a new signing secret. Open each to read the secret and give it to "
                    "the receiver's owner: webhooks are signed with the new secret from now on.",
                    n,
                )
                % {"count": n}
            ),
        )


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("at", "status_code", "error_code", "duration_ms")

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("error"))
    def error_code(self, attempt):
        # What the receiver or the network said, verbatim: machine text, not a sentence of ours.
        return format_html("<code>{}</code>", attempt.error) if attempt.error else "–"


class KindFilter(admin.SimpleListFilter):
    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return vocabulary.published_choices()

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("webhook_id", "endpoint", "kind_label", "status", "attempts", "last_status_code", "created_at")
    list_filter = ("status", ("endpoint", admin.RelatedOnlyFieldListFilter), KindFilter)
    search_fields = ("webhook_id", "endpoint__url", "endpoint__description")
    list_select_related = ("endpoint",)
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]
    fields = (
        "endpoint",
        "event",
        "customer",
        "kind_label",
        "webhook_id",
        "status",
        "attempts",
        "last_status_code",
        "last_error_code",
        "created_at",
        "last_attempt_at",
        "delivered_at",
        "body_document",
    )
    readonly_fields = fields

    @admin.display(description=_("last error"))
    def last_error_code(self, delivery):
        return format_html("<code>{}</code>", delivery.last_error) if delivery.last_error else "–"

    @admin.display(description=_("body"))
    def body_document(self, delivery):
        # The exact bytes that are signed and sent; shown indented, as the machine record it is.
        return format_html("<pre>{}</pre>", json.dumps(json.loads(delivery.body), indent=2, ensure_ascii=False))

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, delivery):
        return vocabulary.kind_label(delivery.kind)

    @admin.action(description=_("Send again (same webhook id)"))
    def redeliver(self, request, queryset):
        # The audit trail records who sent what again (webhooks/services.py).
        act_on_each(
            self,
            request,
            queryset.select_related("endpoint"),
            lambda delivery: webhook_redeliver(delivery=delivery, actor=request.user),
            name=lambda delivery: delivery.webhook_id,
            done=lambda n: (
                ngettext("%(count)d webhook will be sent again.", "%(count)d webhooks will be sent again.", n)
                % {"count": n}
            ),
        )
