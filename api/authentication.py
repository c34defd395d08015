"""Who calls the API: `Authorization: Bearer <token>`, and nothing else.

No session authentication: a browser's cookies give the API nothing, so the API needs no CSRF token
and a page's visitor cannot be made to call it (tests/api/test_authentication.py).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.tokens import PREFIX_SHOWN, token_for_key
from core.security import SecurityEvent, security_event

from .throttling import InvalidTokenThrottle

KEYWORD = "Bearer"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """A personal token acts as its user; a gateway token as no one (request.user stays anonymous).

    The permissions (api/permissions.py) then say what the token may do here.
    """

    def authenticate(self, request) -> tuple | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _sep, key = header.partition(" ")
        if keyword.lower() != KEYWORD.lower():
            return None
        key = key.strip()
        token = token_for_key(key)
        if token is None:
            # Past the address's allowance: 429, and no log line (a flood writes at most the allowance's lines).
            InvalidTokenThrottle().count(request)
            # Its first characters only, as the profile shows them: enough to find the token, never the secret.
            security_event(request._request, SecurityEvent.API_TOKEN_INVALID, token_prefix=key[:PREFIX_SHOWN])
            raise exceptions.AuthenticationFailed(
                _("The API token is unknown, expired or revoked. Make a new one on your profile page.")
            )
        if token.kind == ApiToken.Kind.GATEWAY:
            return AnonymousUser(), token
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) without a token, and tells the client what to send.
        return f'{KEYWORD} realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The bearer scheme in the OpenAPI schema (drf-spectacular finds it by the class it names)."""

    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema) -> dict:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (`oa_…`), made on the profile page. Scopes: `read`, `order`.",
        }
