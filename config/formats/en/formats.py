"""English pages use British dates (28/11/2026, 28 Nov 2026) and the 24-hour clock, as Danish users expect.

Django's "en" formats are American (11/28/2026 10:33 p.m.); FORMAT_MODULE_PATH puts these first.
"""

from django.conf.locale.en_GB.formats import *  # noqa: F403

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
