"""`{% main_menu %}`: the main menu, drawn once per process for each way it can look.

The menu is the same HTML for everybody who may open the same pages, on the same page, with the same count
waiting, in the same language: drawing it cost about half a millisecond on every page. It is drawn from those
values alone (a context holding nothing else, so nothing more can change it) and kept by them.
"""

from functools import lru_cache

from django import template
from django.conf import settings
from django.template import Context
from django.urls import get_script_prefix
from django.utils.safestring import SafeString
from django.utils.translation import get_language

from core.counting import at_most

register = template.Library()

# The predicates the menu's links follow (accounts/roles.py, through config.context_processors.user_roles).
MENU_PREDICATES = (
    "can_see_orders",
    "can_ask_for_help",
    "can_see_billing_runs",
    "can_see_expiring_certificates",
    "can_see_undelivered_messages",
    "can_manage_people",
    "is_user_admin",
    "can_use_admin",
)


@register.simple_tag(takes_context=True)
def main_menu(context: template.Context) -> SafeString:
    roles = context["user_roles"]
    may = tuple(name for name in MENU_PREDICATES if roles[name]())
    resolved = getattr(context.get("request"), "resolver_match", None)
    current = resolved.url_name if resolved is not None else None  # an error page has no resolved view
    count = 0 + context.get("waiting_count", 0)  # the context processor's lazy count, counted now
    waiting = at_most(count) if count else ""  # as shown: every count past the bound looks alike
    key = (get_language(), get_script_prefix(), current, waiting, may, context.autoescape)
    if settings.DEBUG:  # templates reload as they are edited: so does the menu
        return _draw(context.template.engine, *key)
    return _drawn(context.template.engine, *key)


def _draw(engine, _language, _prefix, current, waiting, may, autoescape) -> SafeString:
    # The language and the script prefix are the active ones (the key names them for _drawn).
    values = {"current": current, "waiting": waiting, "may": dict.fromkeys(may, True)}
    return SafeString(engine.get_template("_mainmenu.html").render(Context(values, autoescape=autoescape)))


_drawn = lru_cache(maxsize=1024)(_draw)  # a few roles × pages × counts × two languages
