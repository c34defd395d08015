"""The access register for KMD's gateway (GET /api/v1/access-register) and its public keys.

The register's body is written once as bytes (registers/access.py) and passed through untouched, so
the bytes signed, hashed for the ETag, exported by `manage.py export_access_register` and served are
the same. Errors are RFC 9457 problems (core/problems.py), in the language the request asks for.
"""

from __future__ import annotations

import datetime
import json
import logging
import re

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, renderers, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.http import etag_matches
from core.problems import api_exception_problem, body_response, invalid_body, problem_response
from ordering.models import AccessOrder

from . import jws
from .access import access_register
from .authentication import GatewayTokenAuthentication, ReadsAccessRegister

SIGNATURE_HEADER = "JWS-Signature"
JWKS_PATH = "/.well-known/opus-adgang-register-keys.json"
# How long a gateway or a proxy may keep the key set without asking again: a next key is published at least
# this long (and a margin) before it signs (README.md, "Rotating the register key").
KEY_SET_MAX_AGE = 3600

logger = logging.getLogger(__name__)


def _no_signing_key() -> HttpResponse:
    """503 for the register and its keys while no signing key is set: the operator's to fix, and an unsigned
    register must never reach the gateway."""
    return problem_response(
        503,
        code="not_configured",
        title=_("Not configured"),
        detail=_("The access register cannot be signed: its signing key is not set."),
    )


class PreSerialisedJSONRenderer(renderers.BaseRenderer):
    """Writes bytes the view made already; anything else (DRF's own use) as compact JSON."""

    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if data is None:
            return b""
        if isinstance(data, bytes):
            return data
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _problem(exc, context) -> HttpResponse | None:
    """DRF's errors on this endpoint as problem details, as the API answers them (core/problems.py)."""
    if isinstance(exc, exceptions.APIException):
        return body_response(*api_exception_problem(exc))
    return None


# --- For the OpenAPI schema only: the runtime writes the same shape from rows (registers/access.py). -----


class RegisterNameCvr(serializers.Serializer):
    name = serializers.CharField()
    cvr = serializers.CharField()


class RegisterSystem(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RegisterCertificate(serializers.Serializer):
    sha256 = serializers.CharField(help_text="SHA-256 of the certificate's DER, lowercase hex without colons.")
    subject_serial_number = serializers.CharField(help_text="The subject's serialNumber, e.g. UI:DK-O:G:<uuid>.")
    subject_uuid = serializers.CharField(help_text="The UUID in the subject's serialNumber (OCES3).")
    subject_cn = serializers.CharField()
    subject = serializers.CharField(help_text="The whole subject, RFC 4514.")
    issuer = serializers.CharField(help_text="The issuer, RFC 4514.")
    not_before = serializers.DateTimeField()
    not_after = serializers.DateTimeField()
    role = serializers.ChoiceField(choices=["current", "previous"], help_text="previous: replaced by a rollover.")
    accepted_until = serializers.DateTimeField(
        help_text="not_after, or for a previous certificate the end of the overlap window if sooner."
    )


class RegisterAccess(serializers.Serializer):
    order = serializers.CharField(help_text="The order number, e.g. OA-000042: the access's key.")
    customer = RegisterNameCvr()
    external_system = RegisterSystem()
    vendor = RegisterNameCvr()
    interfaces = serializers.ListField(child=serializers.CharField(), help_text="Interface codes.")
    environment = serializers.ChoiceField(choices=AccessOrder.Environment.choices)
    since = serializers.DateField(help_text="The day access was established.")
    ends_on = serializers.DateField(allow_null=True, help_text="The first day without access, when one is set.")
    integration_type = serializers.ChoiceField(choices=AccessOrder.IntegrationType.choices)
    certificates = RegisterCertificate(
        many=True,
        allow_null=True,
        help_text="null for a standard integration: the certificate KMD agreed with the vendor for the system.",
    )


class RegisterRemoved(serializers.Serializer):
    order = serializers.CharField()
    reason = serializers.ChoiceField(choices=["closed", "emergency_closed", "test_access_expired"])


class AccessRegister(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    environment = serializers.ChoiceField(choices=AccessOrder.Environment.choices)
    since = serializers.DateTimeField(required=False, help_text="Only in a delta (?since=).")
    accesses = RegisterAccess(many=True)
    removed = RegisterRemoved(many=True, required=False, help_text="Only in a delta (?since=).")


class RegisterProblem(serializers.Serializer):
    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField()
    detail = serializers.CharField(required=False)


_PROBLEM = OpenApiResponse(RegisterProblem, description="Problem details (RFC 9457).")
_PROBLEM_TYPE = "application/problem+json"


class AccessRegisterView(APIView):
    authentication_classes = [GatewayTokenAuthentication]
    permission_classes = [ReadsAccessRegister]
    throttle_classes: list = []  # the gateway polls; its token is KMD's own
    renderer_classes = [PreSerialisedJSONRenderer]

    def get_exception_handler(self):
        return _problem

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        # Private to the gateway, and revalidated with its ETag before each use (If-None-Match, README): so
        # config.middleware.PrivateCacheMiddleware must not turn it into no-store, as it does for people.
        response["Cache-Control"] = "private, no-cache"
        response.keeps_cache_control = True
        patch_vary_headers(response, ("Authorization",))
        return response

    def perform_authentication(self, request) -> None:
        try:
            super().perform_authentication(request)
        finally:
            if request._user is None:
                # DRF's UNAUTHENTICATED_USER is None (settings), and it hands request.user on to Django's
                # request: the middleware after the view expects a user object there.
                request.user = AnonymousUser()

    @extend_schema(
        operation_id="access_register",
        summary="The access register: what KMD's gateway must allow now",
        description=(
            "Every established access in one environment, with the certificates the gateway must accept. "
            f"Signed: the `{SIGNATURE_HEADER}` header holds a detached JWS (EdDSA/Ed25519) over the body; the "
            f"keys are at `{JWKS_PATH}`. With `since`, only what changed since then (README.md)."
        ),
        tags=["access register"],
        parameters=[
            OpenApiParameter(
                "environment", str, enum=AccessOrder.Environment.values, required=True, description="Which gateway."
            ),
            OpenApiParameter(
                "since",
                OpenApiTypes.DATETIME,
                description="RFC 3339 time (e.g. the last response's generated_at): only the changes since then.",
            ),
            OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, description="An earlier ETag."),
            OpenApiParameter(
                SIGNATURE_HEADER,
                str,
                OpenApiParameter.HEADER,
                response=[200],
                description="Detached JWS: BASE64URL(header)..BASE64URL(signature).",
            ),
            OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200, 304]),
        ],
        responses={
            (200, "application/json"): AccessRegister,
            (304, "application/json"): OpenApiResponse(description="Unchanged since the ETag in If-None-Match."),
            (400, _PROBLEM_TYPE): _PROBLEM,
            (401, _PROBLEM_TYPE): _PROBLEM,
            (403, _PROBLEM_TYPE): _PROBLEM,
            (503, _PROBLEM_TYPE): _PROBLEM,
        },
    )
    def get(self, request):
        environment = request.query_params.get("environment", "")
        if environment not in AccessOrder.Environment.values:
            return body_response(
                invalid_body(
                    {"environment": _("Choose production or test.")},
                    _("Say which environment: ?environment=production or ?environment=test."),
                )
            )
        since = None
        if "since" in request.query_params:
            since = _parse_rfc3339(request.query_params["since"])
            if since is None:
                return body_response(
                    invalid_body(
                        {"since": _("An RFC 3339 time with its offset.")},
                        _("“since” must be an RFC 3339 time with its offset, e.g. 2026-05-01T08:00:00Z."),
                    )
                )
        register = access_register(environment, since=since)
        headers = {"ETag": register.etag}
        if etag_matches(request.headers.get("If-None-Match", ""), register.etag):
            return Response(status=304, headers=headers)
        try:
            signature = register.signature
        except ImproperlyConfigured:
            return _no_signing_key()
        return Response(register.body, headers={**headers, SIGNATURE_HEADER: signature})


EARLIEST_SINCE = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


# RFC 3339's date-time (section 5.6): full-date "T" full-time, with the offset required; "T" and "Z" in either
# case (its note to section 5.6). datetime.fromisoformat alone takes far more of ISO 8601 (week dates, basic
# format, a space for "T", surrounding blanks) and offset minutes past 59, which is not what the API promises.
# fromisoformat then checks the ranges of the date and the time.
RFC3339_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"  # full-date
    r"[Tt][0-9]{2}:[0-9]{2}:(?P<second>[0-9]{2})(?:\.[0-9]+)?"  # partial-time, seconds up to a leap second's 60
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"  # time-offset
)


def _parse_rfc3339(text: str) -> datetime.datetime | None:
    """The instant an RFC 3339 date-time names, in UTC and not before 1970; None for anything else."""
    match = RFC3339_DATE_TIME.fullmatch(text)
    if match is None:
        return None
    if match["second"] == "60":
        # A leap second reads as the second before it: a delta from a moment earlier misses nothing.
        text = text[: match.start("second")] + "59" + text[match.end("second") :]
    try:
        moment = datetime.datetime.fromisoformat(text.upper())
    except ValueError:  # a month 13, a 31 November, an offset of 24:00
        return None
    # In UTC: the database accepts offsets of at most 15:59, RFC 3339 allows up to 23:59. A time before
    # 1970 asks for every change there is, and 1970 leaves room for the look-back (access.SINCE_MARGIN).
    try:
        return max(moment.astimezone(datetime.UTC), EARLIEST_SINCE)
    except OverflowError:  # 9999-12-31T23:00:00-05:00 (or 0001-01-01T00:00:00+01:00) is no instant Python has
        return None


@require_GET
def register_keys(request) -> HttpResponse:
    """The public keys the register is signed with, as a JWKS (RFC 7517/8037): the current one first, then the
    next and the previous ones."""
    try:
        body = jws.published_keys()
    except ImproperlyConfigured as error:
        logger.error("The access register's key set is not served: %s", error)  # a bad key setting: which one
        return _no_signing_key()
    response = HttpResponse(json.dumps(body, separators=(",", ":")), content_type="application/jwk-set+json")
    response["Cache-Control"] = f"public, max-age={KEY_SET_MAX_AGE}"
    return response
