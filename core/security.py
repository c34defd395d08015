"""The security log: one JSON object per line for each event an operator may need to look into.

Failed logins, lockouts, refused admin logins, CSRF failures, actions a user's role does not allow,
attempts to open another customer's object, API tokens refused, made and revoked. `security_event()` (in a
request) and `security_event_by()` (a service's actor, no request) are the only ways to write it;
settings.LOGGING sends the `security` logger through `config.logs.JsonLinesFormatter` whatever
LOG_FORMAT says.
"""

import logging
from enum import StrEnum
from typing import TypeVar

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.views import csrf

M = TypeVar("M", bound=Model)

logger = logging.getLogger("security")


class SecurityEvent(StrEnum):
    LOGIN_FAILED = "login_failed"
    LOCKED_OUT = "locked_out"
    ADMIN_LOGIN_REFUSED = "admin_login_refused"
    # A MitID Erhverv or Entra ID login refused (ordering/login.py): its reason, e.g. unknown_cvr, assurance.
    LOGIN_REFUSED = "login_refused"
    # A KMD employee's support or catalogue-admin role changed by their Entra ID login (ordering/people.py).
    STAFF_ROLES_CHANGED = "staff_roles_changed"
    CSRF_FAILURE = "csrf_failure"
    ACTION_REFUSED = "action_refused"
    OTHER_CUSTOMERS_OBJECT = "other_customers_object"
    # The API (api/): a token that is unknown, expired or revoked (401; only its first characters are logged),
    # and a live token used where it may not be (403: a scope it lacks, a gateway token on personal endpoints).
    API_TOKEN_INVALID = "api_token_invalid"  # noqa: S105  (event names, not secrets)
    API_TOKEN_NOT_ALLOWED = "api_token_not_allowed"  # noqa: S105
    # A token made or revoked (accounts/tokens.py), with its id, prefix, kind and who did it; never the secret.
    API_TOKEN_CREATED = "api_token_created"  # noqa: S105
    API_TOKEN_REVOKED = "api_token_revoked"  # noqa: S105


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, for lockouts (AXES_CLIENT_IP_CALLABLE) and the log alike.

    REMOTE_ADDR, as everywhere else in the project: behind a reverse proxy, that must be the client's.
    """
    return request.META.get("REMOTE_ADDR")


def security_event(request: HttpRequest, event: SecurityEvent, **details) -> None:
    user = getattr(request, "user", None)
    _write(
        event,
        user=user.get_username() if user is not None and user.is_authenticated else None,
        ip=client_ip(request),
        method=request.method,
        path=request.path,
        **details,
    )


def security_event_by(actor, event: SecurityEvent, **details) -> None:
    """An event a service records for its actor (a user, or None: a management command), with no request at hand."""
    _write(event, user=actor.get_username() if actor is not None else None, **details)


def _write(event: SecurityEvent, **fields) -> None:
    logger.warning(event.value, extra={"security": {"event": event.value, **fields}})


class NotVisible(Http404):
    """The object exists but belongs to a customer this user does not serve.

    Answered exactly like any 404, so its existence is not revealed; SecurityEventMiddleware records it.
    """

    def __init__(self, message: str, *, kind: str, pk: int) -> None:
        super().__init__(message)
        self.kind = kind
        self.pk = pk


def visible_or_404(visible: QuerySet[M], pk: int, *, kind: str, existing: QuerySet | None = None) -> M:
    """The object `pk` among those a user may see (`visible`); otherwise a 404 either way, so that its existence is
    not revealed — NotVisible when it exists (among `existing`, by default every row), so that the probe is logged.
    The one shape of every `<object>_for_user(user, pk)` (docs/style.md practice 4)."""
    try:
        return visible.get(pk=pk)
    except visible.model.DoesNotExist:
        raise not_found(visible.model, pk, kind=kind, existing=existing) from None


def not_found(model: type[M], pk: int, *, kind: str, existing: QuerySet | None = None) -> Http404:
    """The 404 for an object `pk` this user may not see: NotVisible when it exists (among `existing`, by default
    every row of `model`), so that the probe is logged; a plain 404 when it does not."""
    others = model._default_manager.all() if existing is None else existing
    if others.filter(pk=pk).exists():
        return NotVisible(f"No such {kind}", kind=kind, pk=pk)
    return Http404(f"No such {kind}")


class SecurityEventMiddleware:
    """Records the refusals views raise: another customer's object (NotVisible) and PermissionDenied."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, NotVisible):
            security_event(request, SecurityEvent.OTHER_CUSTOMERS_OBJECT, object=exception.kind, id=exception.pk)
        elif isinstance(exception, PermissionDenied):
            security_event(request, SecurityEvent.ACTION_REFUSED, reason=str(exception) or "permission denied")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: record the failure, then answer with Django's own page (403_csrf.html)."""
    security_event(request, SecurityEvent.CSRF_FAILURE, reason=reason)
    return csrf.csrf_failure(request, reason=reason)
