"""What every template may ask about the user: the predicates of accounts/roles.py."""

from functools import partial

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
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
        # The menu's "waiting for you" count: one query, only on a page that shows the menu, once however
        # often the menu is drawn (desktop and mobile).
        "waiting_count": SimpleLazyObject(partial(_waiting_count, user)),
        # When the browser warns that the idle logout is near (static/js/app.js, _session_expiring.html): the
        # idle time left as the server counts it (accounts.sessions.SessionLifetimeMiddleware).
        "session_idle_timeout": getattr(request, "session_idle_left", settings.SESSION_IDLE_TIMEOUT),
    }


def _waiting_count(user) -> int:
    waiting = sum(worklist_counts(worklists_of(user)).values())
    if roles.is_user_admin(user):
        waiting += people_waiting_count(user)  # colleagues who logged in and wait for a role
    if roles.is_account_manager(user):
        waiting += open_requests_for_account_manager(user).count()  # customers asking for KMD's help
    return waiting
