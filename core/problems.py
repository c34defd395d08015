"""Errors for programs: RFC 9457 problem details, the machine form of `core.errors`.

A page shows a refusal as a sentence; the API and the registers answer with the same sentence, in the
same language, as `application/problem+json`:

    {"type": "https://opus-adgang.invalid/problems/not-allowed-now", "title": "Not allowed now",
     "status": 409, "detail": "Only a draft can be submitted.", "code": "not_allowed_now"}

`type` is a stable URI per kind (documented in docs/api.md); `code` is the same kind as a short
string for programs that switch on it; `errors` names fields, as forms do.

DRF's own errors that the API and the access register both meet (no or a refused token, a token not
allowed, too many requests, any other) are mapped once, by `api_exception_problem`; the API adds its
own (api/problems.py).
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions

from .errors import ChangedMeanwhile, Contended, Invalid, NotAllowedNow, NotPermitted, Refusal

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://opus-adgang.invalid/problems/"


def _kinds() -> dict[type[Refusal], tuple[int, str, str]]:
    # status, code, title — titles translated when asked, in the language of the request.
    return {
        NotPermitted: (403, "not_permitted", _("Not permitted")),
        NotAllowedNow: (409, "not_allowed_now", _("Not allowed now")),
        ChangedMeanwhile: (412, "changed_meanwhile", _("Changed meanwhile")),
        Invalid: (400, "invalid", _("Invalid input")),
        # Nothing wrong with the request: others were writing at the same moment. Try again (Retry-After).
        Contended: (503, "contended", _("Busy: try again")),
    }


def problem_body(status: int, *, code: str, title: str, detail: str | None = None, **extra) -> dict:
    body = {"type": PROBLEM_BASE + code.replace("_", "-"), "title": title, "status": status, "code": code}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def invalid_body(errors: dict[str, str], detail: str | None = None) -> dict:
    """400 for input with errors: field name → sentence, and what to do in `detail`."""
    return problem_body(
        400,
        code="invalid",
        title=_("Invalid input"),
        detail=detail or _("The request has errors. Correct the fields named in “errors”."),
        errors=errors,
    )


def problem_response(status: int, *, code: str, title: str, detail: str | None = None, **extra) -> HttpResponse:
    """A problem-details response for code outside DRF (the access register's plain views)."""
    return body_response(problem_body(status, code=code, title=title, detail=detail, **extra))


def body_response(body: dict, headers: dict[str, str] | None = None) -> HttpResponse:
    """A problem body (`problem_body`) as a plain Django response, with its headers."""
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=body["status"], content_type=PROBLEM_CONTENT_TYPE, headers=headers
    )


def flatten_detail(detail) -> str:
    """DRF's error detail (a string, or lists and dicts of them) as one sentence."""
    if isinstance(detail, dict):
        return " ".join(flatten_detail(value) for value in detail.values())
    if isinstance(detail, list):
        return " ".join(flatten_detail(value) for value in detail)
    return str(detail)


def api_exception_problem(exc: exceptions.APIException) -> tuple[dict, dict[str, str]]:
    """A DRF error as a problem body and the headers it carries, for the API and the access register alike.

    401 with the view's challenge (WWW-Authenticate, which DRF puts on the exception), 403, 429 with
    Retry-After, and any other by its status and DRF's code. A throttle of our own that knows its sentence
    (`sentence()`: accounts.bearer.TooManyInvalidTokens, refused tokens from one address) says it.
    """
    headers: dict[str, str] = {}
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        title = _("Not authenticated")
        return problem_body(exc.status_code, code="not_authenticated", title=title, detail=str(exc.detail)), headers
    if isinstance(exc, exceptions.PermissionDenied):
        return problem_body(403, code="not_permitted", title=_("Not permitted"), detail=str(exc.detail)), headers
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, int(exc.wait or 1))
        headers["Retry-After"] = str(wait)
        sentence = getattr(exc, "sentence", None)
        if sentence is not None:
            detail = sentence()
        else:
            detail = _("Too many requests with this token. Try again in %(seconds)d seconds.") % {"seconds": wait}
        return problem_body(429, code="too_many_requests", title=_("Too many requests"), detail=detail), headers
    title = str(exc.default_detail)
    return problem_body(exc.status_code, code=exc.default_code, title=title, detail=flatten_detail(exc.detail)), headers


def refusal_headers(refusal: Refusal) -> dict[str, str]:
    """The headers a refusal's problem response carries: when to try again, for a contended write."""
    if isinstance(refusal, Contended):
        return {"Retry-After": str(Contended.RETRY_AFTER_SECONDS)}
    return {}


def refusal_problem(refusal: Refusal) -> dict:
    """The problem body for a refused write: status and kind from its class, the sentence as `detail`."""
    status, code, title = next(
        (facts for kind, facts in _kinds().items() if isinstance(refusal, kind)),
        (400, "refused", _("Refused")),
    )
    # A 400 always names what is wrong: its fields, or the whole request ("") when no field is to blame.
    errors = refusal.errors or ({"": refusal.message} if isinstance(refusal, Invalid) else {})
    extra = {"errors": errors} if errors else {}
    return problem_body(status, code=code, title=title, detail=refusal.message, **extra)
