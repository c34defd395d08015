"""Who may read the access register: KMD's gateway, with a gateway token (`Authorization: Bearer oa_…`).

A gateway token belongs to no person and can do nothing else (accounts/tokens.py makes it with the
`register` scope only). A personal token is a valid token, so it is answered 403, not 401: the caller
is known, and not allowed. No token or an unknown, expired or revoked one is 401 with
`WWW-Authenticate`. The bearer header is read, and a refused token counted per address and logged, where
the API's is too (accounts/bearer.py): the API and the register share one allowance of refused tokens.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from accounts.bearer import KEYWORD, BearerScheme, bearer_token
from accounts.models import ApiToken
from core.security import SecurityEvent, security_event


class Gateway:
    """request.user for a gateway token: authenticated, and nobody."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    pk = None

    def __str__(self) -> str:
        return "gateway"


class GatewayTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request) -> tuple | None:
        token = bearer_token(request, refused=_("The token is unknown, expired or revoked."))
        if token is None:
            return None
        return (Gateway() if token.kind == ApiToken.Kind.GATEWAY else token.user), token

    def authenticate_header(self, request) -> str:
        return f'{KEYWORD} realm="access-register"'


class ReadsAccessRegister(permissions.BasePermission):
    message = _("Only KMD's gateway, with a gateway token, may read the access register.")

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            raise exceptions.NotAuthenticated(_("Send a gateway token: Authorization: Bearer <token>."))
        if token.kind == ApiToken.Kind.GATEWAY and ApiToken.Scope.REGISTER in token.scopes:
            return True
        security_event(
            request._request,
            SecurityEvent.API_TOKEN_NOT_ALLOWED,
            token=token.pk,
            token_prefix=token.prefix,
            reason="not a gateway token",
        )
        return False


class GatewayTokenScheme(BearerScheme):
    target_class = "registers.authentication.GatewayTokenAuthentication"
    name = "gatewayToken"
    description = "A gateway token (`oa_…`, kind gateway, scope `register`), made by KMD for its gateway."
