"""Errors for programs: RFC 9457 problem details, the machine form of `core.errors`.

A page shows a refusal as a sentence; the API and the registers answer with the same sentence, in the
same language, as `application/problem+json`:

    {"type": "https://opus-adgang.invalid/problems/not-allowed-now", "title": "Not allowed now",
     "status": 409, "detail": "Only a draft can be submitted.", "code": "not_allowed_now"}

`type` is a stable URI per kind (documented in docs/api.md); `code` is the same kind as a short
string for programs that switch on it; `errors` names fields, as forms do.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _

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


def problem_response(status: int, *, code: str, title: str, detail: str | None = None, **extra) -> HttpResponse:
    """A problem-details response for code outside DRF (the access register's plain views)."""
    body = problem_body(status, code=code, title=title, detail=detail, **extra)
    return HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM_CONTENT_TYPE)


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
