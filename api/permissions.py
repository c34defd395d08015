"""What a token may do on these endpoints: a personal token, with the scope the method needs.

What its user may do with an order is not decided here: the selectors (404 for other customers'
objects) and the services (the role for each action) decide it, as they do for the pages.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions

from accounts.models import ApiToken
from core.security import SecurityEvent, security_event

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def scope_needed(method: str) -> str:
    return ApiToken.Scope.READ if method in READ_METHODS else ApiToken.Scope.ORDER


def token_details(token: ApiToken | None) -> dict:
    """What the security log says about the token of a request: its id and first characters, never the secret."""
    if not isinstance(token, ApiToken):
        return {}
    return {"token": token.pk, "token_prefix": token.prefix}


def _log_refusal(request, token: ApiToken, **details) -> None:
    security_event(request._request, SecurityEvent.API_TOKEN_NOT_ALLOWED, **token_details(token), **details)


class PersonalTokenWithScope(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated(
                _("Send a personal API token as “Authorization: Bearer <token>”. Make one on your profile page.")
            )
        if token.kind != ApiToken.Kind.PERSONAL:
            _log_refusal(request, token, reason="gateway token")
            raise exceptions.PermissionDenied(_("A gateway token can only read the access register."))
        scope = scope_needed(request.method)
        if scope not in token.scopes:
            _log_refusal(request, token, reason="scope missing", scope=scope)
            raise exceptions.PermissionDenied(
                _("This token does not have the scope “%(scope)s”. Make a token with that scope on your profile page.")
                % {"scope": scope}
            )
        return True
