"""Rate limits, counted in the cache API_THROTTLE_CACHE names.

Valid tokens are counted per token (API_THROTTLE_RATE), not per address: many municipal programs may
share one gateway address, and one busy program must not use up another's allowance. Tokens that are
unknown, expired or revoked are counted per address, for the API and the access register together, where
every bearer token is read (accounts/bearer.py, API_INVALID_TOKEN_RATE).
With several web processes, point API_THROTTLE_CACHE at a shared cache (Redis), or each process counts
on its own.
"""

from __future__ import annotations

from accounts.bearer import SettingsRateThrottle


class TokenRateThrottle(SettingsRateThrottle):
    scope = "api_token"
    rate_setting = "API_THROTTLE_RATE"

    def get_cache_key(self, request, view) -> str | None:
        token = getattr(request, "auth", None)
        if token is None or getattr(token, "pk", None) is None:
            return None  # refused before it is counted: only a valid token reaches a view
        return self.cache_format % {"scope": self.scope, "ident": token.pk}
