"""Settings for the web process tests/reliability/test_database_outage.py starts: production's, except static files.

The server runs as production does (no DEBUG: Django's own 500 handling, gunicorn); only the static files are
found where `npm ci` put them, as in the other tests, since the test runs no collectstatic.
"""

from config.settings import *  # noqa: F403
from config.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
