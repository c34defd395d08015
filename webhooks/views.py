"""A customer's own webhook endpoints, managed by its user administrator: add, see, test, rotate, remove.

The signing secret is in the answer to the form that made it (an addition, a rotation) and nowhere else: not in
the session, not behind a second address, and not cached (PrivateCacheMiddleware makes it "no-store").
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import is_user_admin
from core.errors import Refusal
from core.form_tokens import Outcome, submit_once
from core.http import allowed_if, show_refusal, submit_or_refuse

from . import selectors, services
from .forms import CustomerEndpointForm
from .models import WebhookEndpoint


@login_required
@allowed_if(is_user_admin)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    """Each customer the user administers, with its endpoints."""
    customers = list(selectors.customers_with_webhooks_of(request.user))
    endpoints = list(selectors.endpoints_visible_to(request.user).order_by("pk"))
    rows = [(customer, [e for e in endpoints if e.customer_id == customer.pk]) for customer in customers]
    return render(
        request, "webhooks/endpoint_list.html", {"rows": rows, "max_endpoints": services.CUSTOMER_ENDPOINTS_MAX}
    )


def _secret_page(request: HttpRequest, endpoint: WebhookEndpoint, *, rotated: bool) -> HttpResponse:
    return render(request, "webhooks/secret.html", {"endpoint": endpoint, "rotated": rotated})


def _sent_before(request: HttpRequest, made: dict, response: HttpResponse) -> HttpResponse | None:
    """The answer to a form sent twice (a double click, a reload): the first made the secret and showed it."""
    if made and WebhookEndpoint.objects.filter(pk=made["endpoint"].pk, secret=made["endpoint"].secret).exists():
        return None
    messages.info(
        request,
        _(
            "This form was sent before, and the signing secret was made then. It was shown once, at that time, and "
            "cannot be shown again. If you did not copy it, give the endpoint a new secret."
        ),
    )
    return response


@login_required
def endpoint_add(request: HttpRequest, customer_pk: int) -> HttpResponse:
    customer = selectors.customer_for_webhooks(request.user, customer_pk)
    form = CustomerEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        made: dict = {}

        def add() -> Outcome:
            made["endpoint"] = services.customer_webhook_endpoint_add(
                customer=customer,
                url=form.cleaned_data["url"],
                description=form.cleaned_data["description"],
                actor=request.user,
            )
            return Outcome(reverse("webhooks:endpoint_list"), _("The webhook endpoint was added."))

        try:
            response = submit_once(request, add)
        except Refusal as refusal:
            show_refusal(request, refusal, form=form, action="webhook_endpoint_add", customer=customer.pk)
        else:
            return _sent_before(request, made, response) or _secret_page(request, made["endpoint"], rotated=False)
    return render(
        request,
        "webhooks/endpoint_form.html",
        {"customer": customer, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for_user(request.user, pk)
    return render(
        request,
        "webhooks/endpoint_detail.html",
        {"endpoint": endpoint, "deliveries": selectors.recent_deliveries(endpoint)},
    )


@login_required
@require_POST
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for_user(request.user, pk)
    here = reverse("webhooks:endpoint_detail", args=[endpoint.pk])

    def send() -> Outcome:
        delivery = services.webhook_test_send(endpoint=endpoint, actor=request.user)
        return Outcome(
            here + "#deliveries",
            _("A test webhook (%(id)s) was sent. Its status is below.") % {"id": delivery.webhook_id},
        )

    return submit_or_refuse(request, send, refused=here, action="webhook_test", endpoint=endpoint.pk)


@login_required
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_for_user(request.user, pk)
    if request.method == "POST":
        made: dict = {}

        def rotate() -> Outcome:
            made["endpoint"] = services.webhook_endpoint_rotate_secret(endpoint=endpoint, actor=request.user)
            return Outcome(
                reverse("webhooks:endpoint_detail", args=[endpoint.pk]), _("The endpoint has a new signing secret.")
            )

        try:
            response = submit_once(request, rotate)
        except Refusal as refusal:
            show_refusal(request, refusal, action="webhook_rotate", endpoint=endpoint.pk)
            return redirect("webhooks:endpoint_detail", endpoint.pk)
        return _sent_before(request, made, response) or _secret_page(request, made["endpoint"], rotated=True)
    return render(request, "webhooks/endpoint_rotate.html", {"endpoint": endpoint})


@login_required
def endpoint_remove(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method == "POST":
        # Found inside the write: the same form sent twice (a double click) finds the endpoint gone, and
        # gets the first answer again instead of a 404.
        def remove() -> Outcome:
            endpoint = selectors.endpoint_for_user(request.user, pk)
            services.customer_webhook_endpoint_remove(endpoint=endpoint, actor=request.user)
            return Outcome(
                reverse("webhooks:endpoint_list"),
                _("The endpoint %(url)s was removed. No more webhooks are sent to it.") % {"url": endpoint.url},
            )

        return submit_or_refuse(
            request,
            remove,
            refused=reverse("webhooks:endpoint_detail", args=[pk]),
            action="webhook_remove",
            endpoint=pk,
        )
    endpoint = selectors.endpoint_for_user(request.user, pk)
    return render(request, "webhooks/endpoint_remove.html", {"endpoint": endpoint})
