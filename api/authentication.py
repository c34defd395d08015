"""Who calls the API: `Authorization: Bearer <token>`, and nothing else.

No session authentication: a browser's cookies give the API nothing, so the API needs no CSRF token
and a page's visitor cannot be made to call it (tests/api/test_authentication.py).
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication

from accounts.bearer import KEYWORD, BearerScheme, bearer_token
from accounts.models import ApiToken


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """A personal token acts as its user; a gateway token as no one (request.user stays anonymous).

    The permissions (api/permissions.py) then say what the token may do here. Refused tokens are counted,
    logged and refused where every bearer token is read (accounts/bearer.py).
    """

    def authenticate(self, request) -> tuple | None:
        token = bearer_token(
            request, refused=_("The API token is unknown, expired or revoked. Make a new one on your profile page.")
        )
        if token is None:
            return None
        if token.kind == ApiToken.Kind.GATEWAY:
            return AnonymousUser(), token
        return token.user, token

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 (not 403) without a token, and tells the client what to send.
        return f'{KEYWORD} realm="api"'


class BearerTokenScheme(BearerScheme):
    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"
    description = "A personal API token (`oa_…`), made on the profile page. Scopes: `read`, `order`."
