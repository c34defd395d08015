"""`Authorization: Bearer <token>`, read once for every caller: the API (api/authentication.py) and the
access register (registers/authentication.py) both authenticate through `bearer_token()`.

A token that is unknown, expired or revoked is counted per client address (settings
API_INVALID_TOKEN_RATE, counted in the cache API_THROTTLE_CACHE names), whichever endpoint it was
sent to: whoever sends them has no token to count by. Within the allowance it is written to the
security log (`api_token_invalid`, its first characters only) and answered 401; past it, 429 and no
log line, so a flood writes at most the allowance's lines. A valid token is never counted here.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.throttling import SimpleRateThrottle

from core.security import SecurityEvent, client_ip, security_event

from .models import ApiToken
from .tokens import PREFIX_SHOWN, token_for_key

KEYWORD = "Bearer"


class TooManyInvalidTokens(exceptions.Throttled):
    """An address sent more unknown, expired or revoked tokens than API_INVALID_TOKEN_RATE allows.

    The API and the register answer it alike: 429, `Retry-After: retry_after`, and `sentence()` as the detail.
    """

    @property
    def retry_after(self) -> int:
        return max(1, int(self.wait or 1))

    def sentence(self) -> str:
        return _(
            "Too many requests with an unknown, expired or revoked token from your address. "
            "Try again in %(seconds)d seconds, with a valid token."
        ) % {"seconds": self.retry_after}


class SettingsRateThrottle(SimpleRateThrottle):
    """A DRF throttle whose rate is the setting `rate_setting` names, counted in the cache API_THROTTLE_CACHE
    names (read when it counts, so that tests and deployments may change both)."""

    rate_setting = ""

    def __init__(self) -> None:
        self.cache = caches[settings.API_THROTTLE_CACHE]
        super().__init__()

    def get_rate(self) -> str:
        return getattr(settings, self.rate_setting)


class BearerScheme(OpenApiAuthenticationExtension):
    """A bearer-token scheme in the OpenAPI schema; drf-spectacular finds a subclass by the `target_class` it
    names (this base names none, so it matches nothing)."""

    description = ""

    def get_security_definition(self, auto_schema) -> dict:
        return {"type": "http", "scheme": "bearer", "description": self.description}


class InvalidTokenThrottle(SettingsRateThrottle):
    """Counts the refused tokens an address sends; a valid token is never counted."""

    scope = "api_invalid_token"
    rate_setting = "API_INVALID_TOKEN_RATE"

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}

    def count(self, request) -> None:
        """Count one refused token; raises TooManyInvalidTokens once the address is past its allowance."""
        if not self.allow_request(request, None):
            raise TooManyInvalidTokens(wait=self.wait())


def bearer_token(request, *, refused: str) -> ApiToken | None:
    """The live token the request carries; None when it carries no bearer token (the caller answers 401).

    A bearer token that is not live is counted for its address (TooManyInvalidTokens past the allowance),
    logged by its first characters, and refused with AuthenticationFailed saying `refused`.
    """
    header = authentication.get_authorization_header(request).decode("latin-1")
    keyword, _sep, key = header.partition(" ")
    if not header or keyword.lower() != KEYWORD.lower():
        return None
    key = key.strip()
    token = token_for_key(key)
    if token is None:
        InvalidTokenThrottle().count(request)
        # Its first characters only, as the profile shows them: enough to find the token, never the secret.
        security_event(request._request, SecurityEvent.API_TOKEN_INVALID, token_prefix=key[:PREFIX_SHOWN])
        raise exceptions.AuthenticationFailed(refused)
    return token
