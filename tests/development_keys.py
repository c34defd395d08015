"""The test suite's explicit switch to the development keys published in config/settings.py.

pytest loads this module before Django's settings (pyproject.toml: `addopts = "-p tests.development_keys"`), so
the suite runs with the fixed development keys; outside development and this suite no process has them.
A test of the production rules starts a fresh process without the switch (tests/processes.py).
"""

import os

os.environ.setdefault("OPUS_DEVELOPMENT_KEYS", "1")
