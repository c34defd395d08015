import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from audit.keys import require_keys  # noqa: E402 (after the settings are loaded)

# The web process seals audit events and signs the access register it serves.
require_keys("AUDIT_HMAC_KEY", "ACCESS_REGISTER_SIGNING_KEY")
