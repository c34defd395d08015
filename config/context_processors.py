"""What every template may ask about the user: the predicates of accounts/roles.py."""

import time
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from accounts import roles
from ordering.consulting import open_requests_for_account_manager
from ordering.people import people_waiting_count
from ordering.selectors import worklist_counts, worklists_of

# The predicates templates use, by their names in accounts/roles.py: `{% if user_roles.can_see_billing_runs %}`.
TEMPLATE_PREDICATES = (
    "is_customer_user",
    "is_account_manager",
    "is_support",
    "is_back_office",
    "is_catalogue_admin",
    "can_see_orders",
    "can_see_billing_runs",
    "can_see_expiring_certificates",
    "can_see_controller_registers",
    "can_see_undelivered_messages",
    "can_use_admin",
    "is_user_admin",
    "can_manage_people",
    "can_ask_for_help",
)


def user_roles(request: HttpRequest) -> dict:
    """Each predicate bound to the request's user, asked only when a template uses it.

    Templates call a callable they look up, so a page without a menu (a partial, an e-mail) costs no query.
    """
    user = getattr(request, "user", None) or AnonymousUser()  # a page rendered without the auth middleware
    return {
        "user_roles": {name: partial(getattr(roles, name), user) for name in TEMPLATE_PREDICATES},
        # The menu's "waiting for you" count: only on a page that shows the menu, once however often the menu
        # is drawn (desktop and mobile), and counted at most once a minute (waiting_count).
        "waiting_count": SimpleLazyObject(partial(waiting_count, request, user)),
        # When the browser warns that the idle logout is near (static/js/app.js, _session_expiring.html): the
        # idle time left as the server counts it (accounts.sessions.SessionLifetimeMiddleware).
        "session_idle_timeout": getattr(request, "session_idle_left", settings.SESSION_IDLE_TIMEOUT),
    }


# The menu's count as last counted, in the session: [count, when (POSIX time), whose]. Counting builds and runs
# every worklist's query (ordering.selectors.worklist_counts), a third of a light page's CPU; kept for a minute,
# most pages read it from the session they load anyway. A write by the user (any POST) forgets it
# (WaitingCountMiddleware), so their own action shows at once; one by somebody else within the minute. The start
# page always counts afresh (ordering.views.home).
WAITING_COUNT = "waiting_count"
WAITING_COUNT_SECONDS = 60
SAFE_METHODS = ("GET", "HEAD", "OPTIONS", "TRACE")  # RFC 9110 9.2.1: these change nothing


def waiting_count(request: HttpRequest, user) -> int:
    session = getattr(request, "session", None)
    now = time.time()
    kept = session.get(WAITING_COUNT) if session is not None else None
    if kept and kept[2] == user.pk and 0 <= now - kept[1] < WAITING_COUNT_SECONDS:
        return kept[0]
    count = count_waiting(user)
    if session is not None and user.is_authenticated:
        session[WAITING_COUNT] = [count, now, user.pk]
    return count


def count_waiting(user) -> int:
    waiting = sum(worklist_counts(worklists_of(user)).values())
    if roles.is_user_admin(user):
        waiting += people_waiting_count(user)  # colleagues who logged in and wait for a role
    if roles.is_account_manager(user):
        waiting += open_requests_for_account_manager(user).count()  # customers asking for KMD's help
    return waiting


class WaitingCountMiddleware:
    """The user's own write may change what waits for them: the next page counts afresh."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in SAFE_METHODS and WAITING_COUNT in getattr(request, "session", {}):
            del request.session[WAITING_COUNT]
        return self.get_response(request)
