"""The project's secret keys as settings hold them (config/settings.py, README.md "Keys"), refused when unusable.

Outside development (DJANGO_DEBUG=1, or the test suite's OPUS_DEVELOPMENT_KEYS=1) a key that is not set, or that is
one of the development keys published in config/settings.py, is refused with a sentence naming its variable:
by whatever would seal, sign or serve with it, and by each process that needs it, when it starts
(`require_keys`: the web process in config/wsgi.py, the Celery worker in config/celery.py, the commands that sign).
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def configured_key(name: str) -> str:
    """The value of the key setting `name`; ImproperlyConfigured, naming it, when it may not be used here."""
    value = getattr(settings, name, "") or ""
    if settings.DEVELOPMENT_KEYS:
        return value
    if not value:
        raise ImproperlyConfigured(
            f"{name} is not set. This process needs it in the environment; outside development there is no "
            "default (README.md, “Keys”)."
        )
    if value in settings.PUBLISHED_DEVELOPMENT_KEYS:
        raise ImproperlyConfigured(
            f"{name} is the development key published in config/settings.py, which anyone can read. Outside "
            "development make a key of your own (README.md, “Keys”)."
        )
    return value


def require_keys(*names: str) -> None:
    """At a process's start: every key it will use is set and not a published one, or it stops here."""
    for name in names:
        configured_key(name)
