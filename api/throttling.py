"""Rate limits, counted in the cache API_THROTTLE_CACHE names.

Valid tokens are counted per token (API_THROTTLE_RATE), not per address: many municipal programs may
share one gateway address, and one busy program must not use up another's allowance. Tokens that are
unknown, expired or revoked are counted per address instead (API_INVALID_TOKEN_RATE): whoever sends them
has no token to count by, and past the allowance is answered 429 rather than looked up and logged again.
With several web processes, point API_THROTTLE_CACHE at a shared cache (Redis), or each process counts
on its own.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import caches
from rest_framework.exceptions import Throttled
from rest_framework.throttling import SimpleRateThrottle

from core.security import client_ip


class TokenRateThrottle(SimpleRateThrottle):
    scope = "api_token"

    def __init__(self) -> None:
        self.cache = caches[settings.API_THROTTLE_CACHE]
        super().__init__()

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str | None:
        token = getattr(request, "auth", None)
        if token is None or getattr(token, "pk", None) is None:
            return None  # refused before it is counted: only a valid token reaches a view
        return self.cache_format % {"scope": self.scope, "ident": token.pk}


class TooManyInvalidTokens(Throttled):
    """An address sent more unknown, expired or revoked tokens than API_INVALID_TOKEN_RATE allows."""


class InvalidTokenThrottle(SimpleRateThrottle):
    """Counts the refused tokens an address sends (api/authentication.py); a valid token is never counted."""

    scope = "api_invalid_token"

    def __init__(self) -> None:
        self.cache = caches[settings.API_THROTTLE_CACHE]
        super().__init__()

    def get_rate(self) -> str:
        return settings.API_INVALID_TOKEN_RATE

    def get_cache_key(self, request, view) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}

    def count(self, request) -> None:
        """Count one refused token; raises TooManyInvalidTokens once the address is past its allowance."""
        if not self.allow_request(request, None):
            raise TooManyInvalidTokens(wait=self.wait())
