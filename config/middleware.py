from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config.logs import redact_query, redact_urls

# No inline scripts or styles anywhere: every script is a static file.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class QuerySecretsMiddleware:
    """A credential in the query string (config.logs.QUERY_SECRETS: `?token=…`) is replaced before anything sees it.

    First in settings.MIDDLEWARE: Django's request log (`django.request`, whose records carry the request and so
    its full path), error reports and every view then see `token=[redacted]`. The app reads no credential from a
    URL, so the request is answered as it would have been: the API still refuses it (401).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING")
        if query:
            request.META["QUERY_STRING"] = redact_query(query)
        for raw in ("RAW_URI", "REQUEST_URI"):  # the request line's URL as sent, where the server passes it on
            if isinstance(request.META.get(raw), str):
                request.META[raw] = redact_urls(request.META[raw])
        return self.get_response(request)


# The browser features the app never uses, denied to its pages and to anything they might embed, so that an
# injected script or a framed page cannot ask for them; "()" is an empty allowlist. Only features browsers
# know: an unknown name costs a console warning on every page.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class PolicyHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response: near the top of settings.MIDDLEWARE, so
    that static files (which WhiteNoise answers further in) and SecurityMiddleware's redirects to HTTPS carry them
    too. The admin too: Django 5.2's admin has no inline scripts or styles (tests/security/test_headers.py)."""

    HEADERS = {"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Permissions-Policy": PERMISSIONS_POLICY}

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in self.HEADERS.items():
            response.headers.setdefault(name, value)
        return response


class PrivateCacheMiddleware:
    """Nothing a logged-in user gets (pages, PDFs, CSV, htmx fragments) is kept by a browser or proxy.

    Static files never get here: WhiteNoise answers them earlier, cacheable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # The API's answers keep their own "private, no-cache": a program revalidates them with their ETag
        # (api/views.py sets `keeps_cache_control`).
        if request.user.is_authenticated and not getattr(response, "keeps_cache_control", False):
            response.headers["Cache-Control"] = "no-store, private"
        return response
