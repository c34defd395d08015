"""The REST API's endpoints: thin, like the pages' views, over the same selectors, forms and services.

Every endpoint finds its object through the one access helper of its kind (`order_for_user`,
`invoice_for_user`: another customer's object is a 404), validates what was sent with the form the
page uses, and calls the service the page calls; a `Refusal` becomes a problem (api/problems.py).
What differs from the pages is only the way in and out: a bearer token instead of a session, JSON
instead of HTML, and the language from Accept-Language (Danish unless English is asked for).
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.template.response import SimpleTemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import renderers
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from accounts.roles import can_see_orders
from billing.selectors import billing_section, invoice_for_user, invoices_visible_to
from certificates.forms import CertificateUploadForm
from certificates.selectors import certificate_upload_refusal
from certificates.services import certificate_upload
from certificates.uploads import CappedMemoryUploadHandler
from core.http import etag_matches
from core.problems import problem_response
from ordering import thread
from ordering.filters import OrderFilter, order_list_queryset
from ordering.forms import OrderForm
from ordering.models import AccessOrder, Addendum, ExternalSystem, IntegrationPackage, Interface, State
from ordering.roles import order_roles
from ordering.selectors import addendum_for_user, customer_to_order_for, order_for_user, own_systems_visible_to
from ordering.services import draft_edit_refusal, order_create, order_update_draft
from ordering.transitions import TRANSITIONS, transitions_offered
from ordering.views import addendum_download

from . import serializers as s
from .authentication import BearerTokenAuthentication
from .pagination import Pagination
from .parsers import JSONParser
from .permissions import PersonalTokenWithScope
from .problems import ProblemSerializer, field_errors, invalid, not_found_problem, problem
from .throttling import TokenRateThrottle

# --- How every endpoint answers ----------------------------------------------------------------


def request_language(request: HttpRequest) -> str:
    """The first language of Accept-Language the app speaks; Danish, like the site, otherwise."""
    supported = {code for code, _name in settings.LANGUAGES}
    for code, _quality in parse_accept_lang_header(request.META.get("HTTP_ACCEPT_LANGUAGE", "")):
        if code == "*":
            break
        for candidate in (code, code.split("-")[0]):
            if candidate in supported:
                return candidate
    return settings.LANGUAGE_CODE


def _with_etag(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """A read's ETag (the hash of its body, or of its file); 304 Not Modified when the client has it already."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    etag = response.get("ETag")
    if etag is None and not response.streaming:
        etag = '"' + hashlib.sha256(response.content).hexdigest()[:40] + '"'
        response["ETag"] = etag
    if etag and etag_matches(request.META.get("HTTP_IF_NONE_MATCH", ""), etag):
        not_modified = HttpResponseNotModified()
        not_modified["ETag"] = etag
        if hasattr(response, "file_to_stream") and response.file_to_stream is not None:
            response.file_to_stream.close()
        return not_modified
    return response


PROBLEMS = {
    (status, "application/problem+json"): OpenApiResponse(ProblemSerializer, description=text)
    for status, text in [
        (400, "The request has errors; `errors` names the fields."),
        (401, "No valid token: send `Authorization: Bearer <token>`."),
        (403, "The token lacks the scope, or the user the role."),
        (404, "No such object, or another customer's."),
        (409, "Not possible in the order's current state."),
        (412, "The order changed since `expected_state`."),
        (413, "The body is larger than the server takes (files apart)."),
        (429, "Too many requests with this token, or with refused tokens from this address; see Retry-After."),
    ]
}


def problems(*statuses: int) -> dict:
    return {key: value for key, value in PROBLEMS.items() if key[0] in statuses}


READ_PROBLEMS = problems(400, 401, 403, 404, 429)
WRITE_PROBLEMS = problems(400, 401, 403, 404, 409, 412, 413, 429)


class AnswersOptionsWithAllow:
    """OPTIONS answers what the address takes, in `Allow` (DRF adds it to every answer), and nothing more.

    DRF's own answer describes the POST body from a `serializer_class` these views need not have, and renders
    it with the view's renderer, which for the documentation page is a template that cannot: both were 500s.
    The schema (/api/schema/) is where bodies are described.
    """

    def options(self, request, *args, **kwargs) -> HttpResponse:
        response = HttpResponse(status=200)
        del response["Content-Type"]
        return response


class SchemaView(AnswersOptionsWithAllow, SpectacularAPIView):
    pass


class SchemaDocsView(AnswersOptionsWithAllow, SpectacularSwaggerSplitView):
    pass


class ApiView(AnswersOptionsWithAllow, GenericAPIView):
    """Bearer tokens only, the scope the method needs, a rate per token, problems for errors, ETags on reads."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [PersonalTokenWithScope]
    throttle_classes = [TokenRateThrottle]
    pagination_class = Pagination
    renderer_classes = [renderers.JSONRenderer]
    parser_classes = [JSONParser]

    def dispatch(self, request, *args, **kwargs):
        language = request_language(request)
        with translation.override(language):
            response = super().dispatch(request, *args, **kwargs)
            # Rendered here, in the request's language (the site's middleware speaks the cookie's).
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()
            response = _with_etag(request, response)
        response["Content-Language"] = language
        # Private to the caller, and checked with the server before each use (ETag): never a stale order.
        response["Cache-Control"] = "private, no-cache"
        response.keeps_cache_control = True  # config.middleware.PrivateCacheMiddleware leaves it so
        patch_vary_headers(response, ("Accept-Language", "Authorization"))
        return response

    def page(self, queryset, serializer_class) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True, context={"request": self.request}).data)


@csrf_exempt
def api_not_found(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    """Any other address under /api/: a problem, not the site's HTML page."""
    with translation.override(request_language(request)):
        response = problem_response(404, **not_found_problem())
    response["Cache-Control"] = "private, no-cache"
    response.keeps_cache_control = True
    return response


def _page_of(serializer, operation_id: str, tag: str, **schema):
    """The schema of a list endpoint: a page (`ApiView.page`) of `serializer` items, or a read's problems."""
    return extend_schema(
        operation_id=operation_id, tags=[tag], responses={200: serializer(many=True), **READ_PROBLEMS}, **schema
    )


# --- Catalogue ---------------------------------------------------------------------------------


class InterfaceList(ApiView):
    @_page_of(s.InterfaceSerializer, "catalogue_interfaces_list", "catalogue")
    def get(self, request):
        """The standard interfaces (web services) and the file interfaces being phased out."""
        interfaces = Interface.objects.select_related("replaced_by").order_by("kind", "name_da", "pk")
        return self.page(interfaces, s.InterfaceSerializer)


class ExternalSystemList(ApiView):
    @_page_of(s.ExternalSystemSerializer, "catalogue_external_systems_list", "catalogue")
    def get(self, request):
        """KMD's catalogue of external systems, and the systems your customers registered themselves."""
        own = own_systems_visible_to(request.user).values("pk")
        systems = (
            ExternalSystem.objects.filter(Q(owner__isnull=True) | Q(pk__in=own))
            .select_related("vendor")
            .prefetch_related("standard_interfaces")
            .order_by("category", "name", "pk")
        )
        return self.page(systems, s.ExternalSystemSerializer)


class PackageList(ApiView):
    @_page_of(s.PackageSerializer, "catalogue_packages_list", "catalogue")
    def get(self, request):
        """Integration packages: interfaces bundled for one external system."""
        packages = IntegrationPackage.objects.prefetch_related("interfaces").order_by("code", "pk")
        return self.page(packages, s.PackageSerializer)


# --- Orders ------------------------------------------------------------------------------------


def _detail(request, order: AccessOrder) -> dict:
    """The order page's content: facts, the actions offered now, the quote as the page shows it, the history."""
    user = request.user
    order.api_events = list(order.events.select_related("actor").order_by("seq"))
    actions = [spec.name for spec in transitions_offered(order, user)]
    money = billing_section(order, order_roles(user, order))
    context = {"request": request, "actions": actions, "quote": money["quote"], "quote_frozen": money["quote_frozen"]}
    return s.OrderDetailSerializer(order, context=context).data


def _order(user, pk: int) -> AccessOrder:
    order = order_for_user(user, pk)
    # Re-read with what the order page reads (the selector's list relations stay).
    return (
        AccessOrder.objects.filter(pk=order.pk)
        .select_related(
            "customer",
            "external_system__vendor",
            "package",
            "replaces_file_interface",
            "customer__account_manager",
        )
        .prefetch_related(
            "interfaces", "package__interfaces", Prefetch("addenda", Addendum.objects.order_by("version"))
        )
        .get()
    )


def _raw(initial: dict) -> dict:
    """A form's initial values (model instances) as the ids a client sends."""

    def raw(value):
        if isinstance(value, list | tuple):
            return [raw(v) for v in value]
        return getattr(value, "pk", value)

    return {name: raw(value) for name, value in initial.items()}


def _form_data(data: dict) -> dict:
    return {name: ("" if value is None else value) for name, value in data.items()}


ORDER_FILTERS = [
    OpenApiParameter("q", str, description="Order number, system, vendor, customer, CVR number or requisition number."),
    OpenApiParameter("state", str, enum=State.values),
    OpenApiParameter("customer", int),
    OpenApiParameter("environment", str, enum=AccessOrder.Environment.values),
    OpenApiParameter("external_system", int),
    OpenApiParameter("created_from", OpenApiTypes.DATE),
    OpenApiParameter("created_to", OpenApiTypes.DATE),
    OpenApiParameter(
        "sort",
        str,
        description="number, customer, system, environment, state, created, waiting, changed; `-` first for descending.",
    ),
]


class OrderList(ApiView):
    @_page_of(s.OrderSerializer, "orders_list", "orders", parameters=ORDER_FILTERS)
    def get(self, request):
        """The orders you may see, filtered and sorted like the order list page (newest first)."""
        if not can_see_orders(request.user):
            raise PermissionDenied(_("Your user has no orders to see."))
        filters = OrderFilter(
            request.query_params, queryset=order_list_queryset(request.user), request=request._request
        )
        if not filters.is_valid():
            return invalid(field_errors(filters.errors))
        orders = filters.qs.prefetch_related("interfaces", "package__interfaces")
        return self.page(orders, s.OrderSerializer)

    @extend_schema(
        tags=["orders"],
        request=s.OrderInputSerializer,
        responses={201: s.OrderDetailSerializer, **WRITE_PROBLEMS},
    )
    def post(self, request):
        """Create a draft, as the order form does (`order` scope); submit it with …/submit/."""
        sent = s.OrderInputSerializer(data=request.data)
        sent.is_valid(raise_exception=True)
        data = dict(sent.validated_data)
        chosen = data.pop("customer", None)
        customer, customers = customer_to_order_for(request.user, chosen)
        if chosen is None and customers.count() > 1:
            return invalid({"customer": _("You order for several customers: name the customer in “customer”.")})
        form = OrderForm(_form_data(data), customer=customer)
        if not form.is_valid():
            return invalid(field_errors(form.errors))
        order = order_create(actor=request.user, customer=customer, facts=form.cleaned_data)
        body = _detail(request, _order(request.user, order.pk))
        return Response(body, status=201, headers={"Location": reverse("api:order", args=[order.pk])})


class OrderDetail(ApiView):
    @extend_schema(
        operation_id="orders_retrieve", tags=["orders"], responses={200: s.OrderDetailSerializer, **READ_PROBLEMS}
    )
    def get(self, request, pk: int):
        """One order as its page shows it: the facts, the actions you may take now, the quote and the history."""
        return Response(_detail(request, _order(request.user, pk)))

    @extend_schema(
        tags=["orders"],
        request=s.OrderPatchSerializer,
        responses={200: s.OrderDetailSerializer, **WRITE_PROBLEMS},
    )
    def patch(self, request, pk: int):
        """Change a draft (`order` scope): only the facts sent change, checked as the order form checks them."""
        order = order_for_user(request.user, pk)
        refused = draft_edit_refusal(order=order, actor=request.user)
        if refused is not None:
            raise refused
        sent = s.OrderPatchSerializer(data=request.data)
        sent.is_valid(raise_exception=True)
        data = {**_raw(OrderForm.initial_from(order)), **sent.validated_data}
        form = OrderForm(_form_data(data), customer=order.customer)
        if not form.is_valid():
            return invalid(field_errors(form.errors))
        order_update_draft(order=order, actor=request.user, facts=form.cleaned_data)
        return Response(_detail(request, _order(request.user, pk)))


class OrderMessageList(ApiView):
    @_page_of(s.OrderMessageSerializer, "orders_messages_list", "orders")
    def get(self, request, pk: int):
        """The order's message thread between the customer and KMD, oldest first. Attachments are listed with
        their name, type and size; their content is downloaded on the order page. Writing is on the order page."""
        return self.page(thread.thread_messages(order_for_user(request.user, pk)), s.OrderMessageSerializer)


class OrderAction(ApiView):
    """One lifecycle action, run as the order page's action view runs it: its spec's form, then its service."""

    action_name = ""

    def form_data(self, sent: dict) -> dict:
        return {}

    def run(self, request, pk: int, action_name: str):
        order = order_for_user(request.user, pk)
        spec = TRANSITIONS.get(action_name)
        if spec is None:
            raise Http404("No such action")
        sent = self.get_serializer(data=request.data)
        sent.is_valid(raise_exception=True)
        data = {"expected_state": sent.validated_data.get("expected_state") or order.state}
        data.update(self.form_data(sent.validated_data))
        form = spec.bind(data, order=order, user=request.user)
        if not form.is_valid():
            return invalid(field_errors(form.errors))
        changed = form.changed_meanwhile()
        if changed is not None:
            raise changed
        # The call is the confirmation an irreversible action asks for on the page (ordering/confirm_action.html);
        # an action whose form has a box to tick (`confirm`) needs it ticked here too.
        arguments = form.service_kwargs(request._request)
        if "login" in arguments:
            arguments["login"] = None  # a token proves no MitID Erhverv login, whatever session cookie came along
        spec.run(order=order, actor=request.user, **arguments)
        return Response(_detail(request, _order(request.user, pk)))

    def post(self, request, pk: int):
        return self.run(request, pk, self.action_name)


def _form_value(value):
    """A JSON value as a browser would post it to the action's form."""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, list):
        return [str(item) for item in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else str(value)


class OrderLifecycleAction(OrderAction):
    """Any lifecycle action the order page offers (ordering/transitions.py), by its name."""

    serializer_class = s.ActionInputSerializer

    def form_data(self, sent: dict) -> dict:
        data = {name: _form_value(value) for name, value in sent.items() if name != "expected_state"}
        if "end_licence" in sent:
            data["licence_choice"] = "on"  # the licences to end were chosen, as the close form's list says
        return data

    @extend_schema(
        operation_id="orders_action",
        tags=["orders"],
        parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=list(TRANSITIONS))],
        responses={200: s.OrderDetailSerializer, **WRITE_PROBLEMS},
    )
    def post(self, request, pk: int, action: str):
        """Any action the order page offers, by name – `actions` in the order says which you may take now.

        Send the fields the action's form on the order page asks for (docs/api.md lists them). The role,
        state and rules are the service's, as on the page. Needs the `order` scope.
        """
        return self.run(request, pk, action)


class OrderSubmit(OrderAction):
    action_name = "submit"
    serializer_class = s.SubmitInputSerializer

    def form_data(self, sent: dict) -> dict:
        return {"vendor_agreement": "on"} if sent.get("vendor_agreement") else {}

    @extend_schema(tags=["orders"], responses={200: s.OrderDetailSerializer, **WRITE_PROBLEMS})
    def post(self, request, pk: int):
        """Submit a draft to KMD (`order` scope; the customer's orderer)."""
        return super().post(request, pk)


class OrderWithdraw(OrderAction):
    action_name = "withdraw"
    serializer_class = s.CommentInputSerializer

    def form_data(self, sent: dict) -> dict:
        return {"comment": sent.get("comment", "")}

    @extend_schema(tags=["orders"], responses={200: s.OrderDetailSerializer, **WRITE_PROBLEMS})
    def post(self, request, pk: int):
        """Withdraw a submitted order (`order` scope; the customer's orderer). It cannot be reopened."""
        return super().post(request, pk)


# --- Files: the addendum's PDF, the certificate chain ----------------------------------------


class PDFRenderer(renderers.BaseRenderer):
    """Lets a client ask for application/pdf; a problem on the way is still JSON."""

    media_type = "application/pdf"
    format = "pdf"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()


class AddendumDocument(ApiView):
    renderer_classes = [renderers.JSONRenderer, PDFRenderer]
    accepted_copy = False

    def get(self, request, pk: int, version: int):
        # The page's download (ordering/views.py), with the document's SHA-256 as its ETag.
        addendum = addendum_for_user(request.user, pk, version)
        response = addendum_download(addendum, accepted=self.accepted_copy)
        sha256 = addendum.final_sha256 if self.accepted_copy else addendum.pdf_sha256
        if sha256:
            response["ETag"] = f'"{sha256}"'
        return response


PDF = {(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The PDF (PDF/A-3a).")}


class AddendumPdf(AddendumDocument):
    @extend_schema(tags=["orders"], responses={**PDF, **READ_PROBLEMS})
    def get(self, request, pk: int, version: int):
        """A version of the contract addendum, as issued; its ETag is the document's SHA-256."""
        return super().get(request, pk, version)


class AddendumAcceptedPdf(AddendumDocument):
    accepted_copy = True

    @extend_schema(tags=["orders"], responses={**PDF, **READ_PROBLEMS})
    def get(self, request, pk: int, version: int):
        """The accepted copy of a version, stamped with the signatory's acceptance."""
        return super().get(request, pk, version)


class CertificateUpload(ApiView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=["orders"],
        request={"multipart/form-data": s.CertificateUploadInputSerializer},
        responses={
            201: s.CertificateUploadSerializer,
            (422, "application/problem+json"): OpenApiResponse(
                ProblemSerializer,
                description="The chain was not accepted; `findings` says why. The attempt is recorded.",
            ),
            **WRITE_PROBLEMS,
        },
    )
    def post(self, request, pk: int):
        """Upload the external system's certificate chain (`order` scope; individual integration, the orderer)."""
        # Held in memory up to the cap and never more, as on the page (certificates/uploads.py).
        request._request.upload_handlers = [CappedMemoryUploadHandler(request._request)]
        order = order_for_user(request.user, pk)
        # Refused before the body is read, as the service would refuse it (certificates/selectors.py).
        refused = certificate_upload_refusal(order, request.user)
        if refused is not None:
            raise refused
        form = CertificateUploadForm(request.data, request.FILES)
        if not form.is_valid():
            return invalid(field_errors(form.errors))
        upload_of = {name: form.cleaned_data[name] for name in ("data", "filename", "size")}
        upload, report = certificate_upload(order=order, actor=request.user, **upload_of)
        language = translation.get_language() or "da"
        findings = [{"code": f.code, "severity": f.severity, "message": f.message(language)} for f in report.findings]
        if not report.valid:
            return problem(
                422,
                code="certificate_not_accepted",
                title=_("Certificate chain not accepted"),
                detail=_("The certificate chain was not accepted. See what is wrong below."),
                findings=findings,
            )
        body = {
            "accepted": True,
            "detail": _("The certificate chain was checked and accepted."),
            "filename": upload.filename,
            "size": upload.size,
            "sha256": upload.sha256,
            "findings": findings,
        }
        return Response(s.CertificateUploadSerializer(body).data, status=201)


# --- Invoices ----------------------------------------------------------------------------------


class InvoiceList(ApiView):
    @_page_of(s.InvoiceSerializer, "invoices_list", "invoices")
    def get(self, request):
        """The invoices of your customers (KMD: the customers you serve), newest month first."""
        if not can_see_orders(request.user):
            raise PermissionDenied(_("Your user has no invoices to see."))
        return self.page(
            invoices_visible_to(request.user).order_by("-period", "customer_name", "pk"), s.InvoiceSerializer
        )


class InvoiceDetail(ApiView):
    @extend_schema(
        operation_id="invoices_retrieve", tags=["invoices"], responses={200: s.InvoiceDetailSerializer, **READ_PROBLEMS}
    )
    def get(self, request, pk: int):
        """One invoice with its lines."""
        invoice = invoice_for_user(request.user, pk)
        invoice.api_lines = list(invoice.lines.select_related("order"))
        return Response(s.InvoiceDetailSerializer(invoice, context={"request": request}).data)
