"""What a token may do on these endpoints: a personal token, with the scope the method needs.

What its user may do with an order is not decided here: the selectors (404 for other customers'
objects) and the services (the role for each action) decide it, as they do for the pages.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import exceptions, permissions

from accounts.models import ApiToken

READ_METHODS = ("GET", "HEAD", "OPTIONS")


def scope_needed(method: str) -> str:
    return ApiToken.Scope.READ if method in READ_METHODS else ApiToken.Scope.ORDER


class PersonalTokenWithScope(permissions.BasePermission):
    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated(
                _("Send a personal API token as “Authorization: Bearer <token>”. Make one on your profile page.")
            )
        if token.kind != ApiToken.Kind.PERSONAL:
            raise exceptions.PermissionDenied(_("A gateway token can only read the access register."))
        scope = scope_needed(request.method)
        if scope not in token.scopes:
            raise exceptions.PermissionDenied(
                _("This token does not have the scope “%(scope)s”. Make a token with that scope on your profile page.")
                % {"scope": scope}
            )
        return True
