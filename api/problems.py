"""Every error the API answers is an RFC 9457 problem (`application/problem+json`), built here.

Refusals from the services (`core.errors`) keep their sentence as `detail` (core/problems.py); DRF's
own errors (401, 403, 404, 405, 415, 429, a body that is not valid) and Django's body too large (413)
get a sentence of the same kind, in the language the request asked for (api/views.py). Field errors
go in `errors`, as forms show them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers
from rest_framework.response import Response

from core.errors import Invalid, NotPermitted, Refusal
from core.problems import (
    PROBLEM_CONTENT_TYPE,
    api_exception_problem,
    flatten_detail,
    invalid_body,
    problem_body,
    refusal_headers,
    refusal_problem,
)
from core.security import NotVisible, SecurityEvent, security_event

from .parsers import TOO_DEEP
from .permissions import token_details


class ProblemSerializer(serializers.Serializer):
    """The problem-details body (RFC 9457), for the schema."""

    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="The kind of problem, for programs: invalid, not_permitted, not_found, …")
    detail = serializers.CharField(required=False, help_text="What is wrong and what to do, as a sentence.")
    errors = serializers.DictField(
        child=serializers.CharField(), required=False, help_text="Field name → sentence, when fields are wrong."
    )


def field_errors(detail) -> dict[str, str]:
    """DRF's or a form's errors as one sentence per field (a form's non-field errors under "")."""
    if not isinstance(detail, dict):
        return {"": flatten_detail(detail)}
    return {
        ("" if name in ("non_field_errors", "__all__") else name): flatten_detail(value)
        for name, value in detail.items()
    }


def problem(status: int, *, code: str, title: str, detail: str | None = None, headers=None, **extra) -> Response:
    body = problem_body(status, code=code, title=title, detail=detail, **extra)
    return Response(body, status=status, headers=headers, content_type=PROBLEM_CONTENT_TYPE)


def invalid(errors: dict[str, str], detail: str | None = None) -> Response:
    return Response(invalid_body(errors, detail), status=400, content_type=PROBLEM_CONTENT_TYPE)


def not_found_problem() -> dict:
    """The 404's code, title and sentence: for DRF's views (`not_found`) and any other address under /api/."""
    return {
        "code": "not_found",
        "title": _("Not found"),
        "detail": _("There is nothing here, or it is not yours to see. Check the address and the number."),
    }


def not_found() -> Response:
    return problem(404, **not_found_problem())


def malformed(request, exc: exceptions.ParseError) -> Response:
    """400 for a body its parser could not read, saying what is wrong for the content type that was sent."""
    content_type = (getattr(request, "content_type", "") or "").partition(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        detail = _(
            "The body could not be read as multipart/form-data. Send the file as a multipart form, with the "
            "boundary in Content-Type (multipart/form-data; boundary=…), as an HTTP library does for a file upload."
        )
    elif exc.get_codes() == TOO_DEEP:
        detail = _("The JSON is nested too deeply to be read. Send the fields the operation describes.")
    else:
        detail = _("The body could not be read. Send valid JSON.")
    return problem(400, code="malformed", title=_("Malformed request"), detail=detail)


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """REST_FRAMEWORK["EXCEPTION_HANDLER"]: any refusal or DRF error as a problem; anything else is a bug (500)."""
    request = context.get("request")
    django_request = getattr(request, "_request", request)
    token = token_details(getattr(request, "auth", None))
    if isinstance(exc, Refusal):
        if isinstance(exc, NotPermitted):
            security_event(django_request, SecurityEvent.ACTION_REFUSED, reason=exc.message, **token)
        if isinstance(exc, Invalid) and exc.errors:
            # The service's sentence points at a form ("the fields marked below"); a program reads `errors`.
            return invalid(exc.errors)
        body = refusal_problem(exc)
        return Response(body, status=body["status"], headers=refusal_headers(exc), content_type=PROBLEM_CONTENT_TYPE)
    if isinstance(exc, Http404):
        if isinstance(exc, NotVisible):
            security_event(
                django_request, SecurityEvent.OTHER_CUSTOMERS_OBJECT, object=exc.kind, id=exc.pk, via="api", **token
            )
        return not_found()
    if isinstance(exc, DjangoPermissionDenied):
        security_event(django_request, SecurityEvent.ACTION_REFUSED, reason=str(exc) or "permission denied", **token)
        return problem(403, code="not_permitted", title=_("Not permitted"), detail=str(exc) or None)
    if isinstance(exc, RequestDataTooBig):
        # Django's own answer would be its HTML 400 page. (A file upload is not counted here: the certificate
        # upload reads its file up to its own cap and says so in its findings.)
        detail = _("The body is too large: at most %(size)s, files apart. Send less.") % {
            "size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        }
        return problem(413, code="too_large", title=_("Request too large"), detail=detail)
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if isinstance(exc, exceptions.MethodNotAllowed):
        view = context.get("view")
        if view is not None:
            headers["Allow"] = ", ".join(view.allowed_methods)
        detail = _("%(method)s is not possible here.") % {"method": request.method if request else ""}
        return problem(405, code="method_not_allowed", title=_("Method not allowed"), detail=detail, headers=headers)
    if isinstance(exc, exceptions.ValidationError):
        return invalid(field_errors(exc.detail))
    if isinstance(exc, exceptions.UnsupportedMediaType):
        detail = _("Send the body as JSON (Content-Type: application/json), or as the operation describes.")
        return problem(415, code="unsupported_media_type", title=_("Unsupported media type"), detail=detail)
    if isinstance(exc, exceptions.NotAcceptable):
        detail = _("This operation answers in JSON; accept application/json.")
        return problem(406, code="not_acceptable", title=_("Not acceptable"), detail=detail)
    if isinstance(exc, exceptions.ParseError):
        return malformed(request, exc)
    # 401, 403, 429 and the rest: as the access register answers them (core/problems.py).
    body, headers = api_exception_problem(exc)
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)
