"""Sessions end after SESSION_IDLE_TIMEOUT without a request and SESSION_ABSOLUTE_LIFETIME after login.

Django's own expiry (SESSION_COOKIE_AGE, set to the absolute lifetime) removes the cookie and the
stored session, but silently: the user would land on the login page not knowing why. So the two
limits are checked here, where the session still exists, and the user is told.

Not for the paths programs call (the API, /.well-known/): a program authenticates with its token, so a
browser's stale session must not log it out, and its calls must not keep the browser's session alive.
"""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

LOGGED_IN_AT = "logged_in_at"
LAST_SEEN_AT = "last_seen_at"
LOGIN_PROOF = (
    "login_proof"  # what a MitID Erhverv or Entra ID login proved (accounts.oidc.Proof): acceptances record it
)
WELL_KNOWN = "/.well-known/"
# The last request is written into the session at most once a minute, not on every page (each write is an
# UPDATE of the session row). The idle time counts from that stamp, so it may end up to a minute sooner than
# from the very last request; the page tells the browser the time left as counted here, so the warning
# before the logout still comes in time. "Forlæng" always stamps (accounts.views.session_extend).
TOUCH_EVERY_SECONDS = 60
IDLE_LEFT_HEADER = "Session-Idle-Left"  # RFC 8615: fixed by the standard, not by our URLconf


def machine_paths() -> tuple[str, ...]:
    """The path prefixes (as request.path_info) that programs call: where the API is mounted, and /.well-known/."""
    api_root = reverse("api:schema").removeprefix(get_script_prefix()).partition("/")[0]
    return (f"/{api_root}/", WELL_KNOWN)


def stamp_activity(request: HttpRequest) -> None:
    """The user asked to stay logged in: the idle time starts again now, whenever it was last stamped."""
    request.session[LAST_SEEN_AT] = timezone.now().timestamp()
    request.session_idle_left = settings.SESSION_IDLE_TIMEOUT


def stamp_login(request: HttpRequest) -> None:
    """Called on every login (accounts.signals): both clocks start now, and no earlier login's proof stays.

    A MitID Erhverv or Entra ID login puts its proof in the session right after (ordering/login.py)."""
    now = timezone.now().timestamp()
    request.session[LOGGED_IN_AT] = now
    request.session[LAST_SEEN_AT] = now
    request.session.pop(LOGIN_PROOF, None)


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._machine_paths: tuple[str, ...] | None = None  # found at the first request, once the URLconf loads

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._machine_paths is None:
            self._machine_paths = machine_paths()
        if request.path_info.startswith(self._machine_paths):
            return self.get_response(request)
        if request.user.is_authenticated:
            session = request.session
            now = timezone.now().timestamp()
            logged_in_at = session.setdefault(LOGGED_IN_AT, now)  # sessions from before this rule start now
            if now - session.get(LAST_SEEN_AT, logged_in_at) >= settings.SESSION_IDLE_TIMEOUT:
                return self._expired(
                    request,
                    _("You were logged out because Opus Adgang was not used for %(minutes)d minutes. Log in again.")
                    % {"minutes": settings.SESSION_IDLE_TIMEOUT // 60},
                )
            if now - logged_in_at >= settings.SESSION_ABSOLUTE_LIFETIME:
                return self._expired(
                    request,
                    _("You were logged out because you had been logged in for %(hours)d hours. Log in again.")
                    % {"hours": settings.SESSION_ABSOLUTE_LIFETIME // 3600},
                )
            last_seen = session.get(LAST_SEEN_AT, logged_in_at)
            if now - last_seen >= TOUCH_EVERY_SECONDS:
                session[LAST_SEEN_AT] = last_seen = now
            # What the browser counts down from before it warns (base.html, static/js/app.js): the idle time left
            # as the server counts it, whole seconds.
            request.session_idle_left = int(settings.SESSION_IDLE_TIMEOUT - (now - last_seen))
            response = self.get_response(request)
            response.headers.setdefault(IDLE_LEFT_HEADER, str(request.session_idle_left))
            return response
        return self.get_response(request)

    def _expired(self, request: HttpRequest, message: str) -> HttpResponse:
        logout(request)
        messages.info(request, message)
        return to_login(request)


def page_of(request: HttpRequest) -> str:
    """The page the person is on: for an htmx request the page that asked (HX-Current-URL), never the fragment
    itself, and only a path on this site; otherwise the request's own path."""
    if not request.headers.get("HX-Request"):
        return request.get_full_path()
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if (
        current.path.startswith("/")
        and not current.path.startswith(("//", "/\\"))
        and url_has_allowed_host_and_scheme(
            request.headers.get("HX-Current-URL", ""), allowed_hosts={request.get_host()}
        )
    ):
        return current.path + (f"?{current.query}" if current.query else "")
    return reverse("home")


def to_login(request: HttpRequest) -> HttpResponse:
    """To the login page, coming back to the page afterwards. An htmx request would swap the login page into its
    fragment, so the whole browser goes there instead (HX-Redirect), with the page, not the fragment, as `next`."""
    response = redirect_to_login(page_of(request))
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204, headers={"HX-Redirect": response.url})
    return response


class HtmxLoginRedirectMiddleware:
    """A fragment asked for after the session ended (login_required answers with a redirect to the login page):
    the browser, not the fragment, goes to the login page, and comes back to the page it was on."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.headers.get("HX-Request")
            and response.status_code == 302
            and urlsplit(response.get("Location", "")).path == resolve_url(settings.LOGIN_URL)
        ):
            return to_login(request)
        return response
