"""Settings for Opus Adgang.

Everything that differs between machines comes from environment variables (see README.md).
Without any, the app runs locally on SQLite with eager Celery and console e-mail.
"""

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        # Only ever used with DEBUG on a developer's machine.
        SECRET_KEY = "insecure-local-development-key-never-used-in-production"  # noqa: S105
    elif ALLOWED_HOSTS:
        raise ImproperlyConfigured("SECRET_KEY is not set. Production needs it in the environment (README.md).")
    else:
        # Serving no host at all: only management commands and tests run, so an unpredictable
        # throw-away key is safe and spares them a configuration they do not need.
        SECRET_KEY = secrets.token_urlsafe(50)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "audit",
    "core",
    "accounts",
    "ordering",
    "certificates",
    "billing",
    "webhooks",
    "registers",
    "api",
    "config.apps.ProjectConfig",  # the project on top of the apps: commands that span them (seed_demo)
    "config.apps.AdminConfig",  # the Django admin, open to catalogue admins only (accounts.roles)
    "axes",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served as our own static files (no CDN)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # MitID Erhverv and Entra ID over OpenID Connect (ordering/login.py); allauth's socialaccount needs sites.
    "django.contrib.sites",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
]

MIDDLEWARE = [
    "config.middleware.QuerySecretsMiddleware",  # first: nothing sees, or logs, a token sent in a URL
    "config.middleware.PolicyHeadersMiddleware",  # first: every response carries them, static files too
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside everything that may ask the database: while it is unreachable, a 503 with Retry-After (config/outage.py).
    "config.outage.DatabaseOutageMiddleware",
    # Django's, but a session that cannot be saved during an outage is the 503, not a 400 (config/outage.py).
    "config.outage.SessionMiddleware",
    "config.locale.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.middleware.PrivateCacheMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.sessions.SessionLifetimeMiddleware",
    "config.context_processors.WaitingCountMiddleware",  # the user's own write: the menu's count afresh
    "accounts.sessions.HtmxLoginRedirectMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.security.SecurityEventMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, as django-axes requires: turns a lockout during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.user_roles",
            ],
        },
    },
]

# Connections are kept for a minute: opening one costs a request 9–12 ms on PostgreSQL. The health
# check replaces a kept connection the database has dropped (a restart, a failover) before it is used.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# PostgreSQL's planner prices a random page read at 4 sequential ones by default, a figure for spinning disks. This
# app's tables are read from memory or SSD, where 1.1 is the usual figure: with 4, the account manager's list of new
# certificates to confirm read every active order to find the few with a chain waiting (4.7 ms at 10,000 orders)
# instead of looking up those few orders (1.8 ms). Each connection sets it; empty leaves the server's own setting.
DATABASE_RANDOM_PAGE_COST = os.environ.get("DATABASE_RANDOM_PAGE_COST", "1.1")
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and DATABASE_RANDOM_PAGE_COST:
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = (
        f"{_options.get('options', '')} -c random_page_cost={float(DATABASE_RANDOM_PAGE_COST)}".strip()
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# While the database cannot be reached every request is answered 503, telling the browser or program to try
# again after this many seconds (Retry-After; config/outage.py, README.md "When the database is unreachable").
DATABASE_UNREACHABLE_RETRY_AFTER = int(os.environ.get("DATABASE_UNREACHABLE_RETRY_AFTER", "30"))

AUTH_USER_MODEL = "accounts.User"
# django-axes refuses a locked-out login before the password is even checked, so it comes first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.backends.PasswordBackend",  # passwords only where PASSWORD_LOGIN allows them
    "accounts.backends.IdentityProviderBackend",  # sessions of MitID Erhverv and Entra ID logins
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Danish by default; English available through the language switch.
LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# English pages get British dates, not Django's American "en" formats (config/formats/en).
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Europe/Copenhagen"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
# The design system and htmx come from npm (`npm ci`); they are served from node_modules,
# never copied into the repository by hand.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("dkfds", BASE_DIR / "node_modules" / "dkfds" / "dist"),
    ("htmx", BASE_DIR / "node_modules" / "htmx.org" / "dist"),
]
# Uploaded files (certificates, addenda) are private: kept outside the static root, served by no URL,
# and handed out only by views that check who asks.
STORAGES = {
    "default": {
        # FileSystemStorage writing each file under a temporary name first: no partial files (core/storage.py).
        "BACKEND": "core.storage.PrivateStorage",
        "OPTIONS": {"location": os.environ.get("PRIVATE_STORAGE_ROOT", str(BASE_DIR / "private"))},
    },
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        ),
    },
}
WHITENOISE_USE_FINDERS = DEBUG


# Trust anchors for OCES3 certificate chains, per environment (PEM files in these directories).
# The OCES3 test CAs ship with the project; production roots are installed by the operator.
def env_paths(name: str) -> list[Path]:
    return [Path(p) for p in env_list(name)]


CERTIFICATE_TRUST_DIRS = {
    "test": [BASE_DIR / "certificates" / "trust" / "oces3-test", *env_paths("OCES3_TEST_EXTRA_TRUST_DIRS")],
    "production": env_paths("OCES3_PRODUCTION_TRUST_DIR"),
}
if DEBUG:
    # seed_demo makes a look-alike demo CA here so the demo can show individual integration end to end.
    CERTIFICATE_TRUST_DIRS["test"].append(Path(STORAGES["default"]["OPTIONS"]["location"]) / "demo-trust")


# The keys (README.md, "Keys"). The development keys below are published in this file, so they are used only
# where nothing real is at stake: with DJANGO_DEBUG=1, or with OPUS_DEVELOPMENT_KEYS=1, the test suite's explicit
# switch (tests/development_keys.py). Anywhere else a key that is not set stays empty, and whatever needs it
# refuses with a sentence naming it (audit/keys.py) — a web process, a worker and each command at start.
DEVELOPMENT_KEYS = DEBUG or env_bool("OPUS_DEVELOPMENT_KEYS")
_DEVELOPMENT_KEY_VALUES = {
    "AUDIT_HMAC_KEY": "insecure-development-audit-key-never-used-in-production",
    "AUDIT_CHECKPOINT_KEY": "ZGV2ZWxvcG1lbnQtb25seS1jaGVja3BvaW50LWtleSE=",  # b"development-only-checkpoint-key!"
    "ACCESS_REGISTER_SIGNING_KEY": "ZGV2ZWxvcG1lbnQtb25seS1yZWdpc3Rlci1rZXkhISE=",  # b"development-only-register-key!!!"
}
PUBLISHED_DEVELOPMENT_KEYS = frozenset(_DEVELOPMENT_KEY_VALUES.values())


def _key(name: str) -> str:
    value = os.environ.get(name, "")
    if value in PUBLISHED_DEVELOPMENT_KEYS and not DEVELOPMENT_KEYS:
        raise ImproperlyConfigured(
            f"{name} is a development key published in config/settings.py, which anyone can read. Outside "
            "development make a key of your own (README.md, “Keys”)."
        )
    return value or (_DEVELOPMENT_KEY_VALUES[name] if DEVELOPMENT_KEYS else "")


# The audit trail. Its chain is an HMAC keyed from the environment, so that someone who can write to
# the database cannot recompute it; signed checkpoints of its head go to a directory outside the
# database (write-once storage in production). Every process writes or checks the chain, so every process
# needs AUDIT_HMAC_KEY: settings refuse to load without it.
AUDIT_HMAC_KEY = _key("AUDIT_HMAC_KEY")
if not AUDIT_HMAC_KEY:
    raise ImproperlyConfigured(
        "AUDIT_HMAC_KEY is not set. Every process of Opus Adgang (web, worker, beat, each command) needs it in the "
        "environment; outside development there is no default (README.md, “Keys”)."
    )
# Ed25519 private key as 32 bytes in base64, needed where checkpoints are written (the worker and the
# audit_checkpoint command); the public key alone suffices for verifying.
AUDIT_CHECKPOINT_KEY = _key("AUDIT_CHECKPOINT_KEY")
AUDIT_CHECKPOINT_PUBLIC_KEY = os.environ.get("AUDIT_CHECKPOINT_PUBLIC_KEY", "")
AUDIT_CHECKPOINT_DIR = Path(
    os.environ.get("AUDIT_CHECKPOINT_DIR", Path(STORAGES["default"]["OPTIONS"]["location"]) / "audit-checkpoints")
)
# How often checkpoints are written (audit/checkpoints.py): every this many minutes (beat), after every this
# many events, and right after each acceptance and emergency closure. `verify_audit_log --checkpoints` fails
# when the newest checkpoint is older than the interval plus AUDIT_CHECKPOINT_GRACE_MINUTES, or when the trail
# has run more than the event count past it (docs/audit.md, "What a checkpoint leaves open").
AUDIT_CHECKPOINT_EVERY_MINUTES = int(os.environ.get("AUDIT_CHECKPOINT_EVERY_MINUTES", "15"))
AUDIT_CHECKPOINT_EVERY_EVENTS = int(os.environ.get("AUDIT_CHECKPOINT_EVERY_EVENTS", "50"))
AUDIT_CHECKPOINT_GRACE_MINUTES = int(os.environ.get("AUDIT_CHECKPOINT_GRACE_MINUTES", "15"))
if AUDIT_CHECKPOINT_EVERY_MINUTES < 1 or AUDIT_CHECKPOINT_EVERY_EVENTS < 1 or AUDIT_CHECKPOINT_GRACE_MINUTES < 0:
    raise ImproperlyConfigured(
        "AUDIT_CHECKPOINT_EVERY_MINUTES and AUDIT_CHECKPOINT_EVERY_EVENTS must be at least 1, "
        "AUDIT_CHECKPOINT_GRACE_MINUTES at least 0 (README.md)."
    )

# The data processor named in contract addenda.
SUPPLIER_NAME = os.environ.get("SUPPLIER_NAME", "KMD A/S")
SUPPLIER_CVR = os.environ.get("SUPPLIER_CVR", "26911745")

# Invoices fall due this many days after the invoice date ("netto 30 dage", the usual term for Danish public
# customers); each invoice keeps the terms it was made with.
INVOICE_PAYMENT_TERMS_DAYS = int(os.environ.get("INVOICE_PAYMENT_TERMS_DAYS", "30"))

# KMD Opus Personale support, shown to customers on their pages and next to "Request emergency closure": the
# source sends a customer who needs access closed at once (e.g. a security breach at the vendor) to support.
SUPPORT_PHONE = os.environ.get("SUPPORT_PHONE", "+45 00 00 00 00")
SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", "support@opus-adgang.invalid")

# E-mail: console by default; SMTP when EMAIL_HOST is set.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Opus Adgang <noreply@opus-adgang.invalid>")
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["EMAIL_HOST"]
    EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    # Without a timeout an SMTP server that accepts the connection and then stalls holds a worker forever.
    EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# The file backend (django.core.mail.backends.filebased.EmailBackend) writes one file per message here.
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", "")
if EMAIL_BACKEND == "django.core.mail.backends.filebased.EmailBackend" and not EMAIL_FILE_PATH:
    raise ImproperlyConfigured("EMAIL_FILE_PATH is not set. The file e-mail backend needs a directory (README.md).")

# KMD's documentation of the standard interfaces; each interface links to its page there (Interface.documentation_url).
OPUS_INTEGRATION_DOCS_URL = os.environ.get("OPUS_INTEGRATION_DOCS_URL", "https://opusintegration.kmd.dk").rstrip("/")

# Base URL used in e-mails, which have no request to build links from.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Celery: without a broker, tasks run eagerly in-process (local development, tests).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 120
CELERY_TASK_SOFT_TIME_LIMIT = 90
# At least once: a task is acknowledged only when done (acks_late), and a message whose worker died is
# given back (reject_on_worker_lost). Redis gives an unacknowledged message to another worker after the
# visibility timeout, which must outlast the longest task, or a slow task would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 180}
# The outbox keeps what a request could not hand to the broker, so a request gives up publishing quickly.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
CELERY_TIMEZONE = TIME_ZONE
# Every task but webhook deliveries (WEBHOOK_QUEUE) goes to this queue; each queue needs a worker (-Q).
CELERY_TASK_DEFAULT_QUEUE = "celery"
# The broker may go away at any time (a Redis restart, failover, a network cut): the worker and beat keep
# trying to reach it, at start too, with Celery's back-off (2, 4, 6 … s, at most 30 s between tries) and
# without ever giving up (Celery's default gives up after 100 tries and exits). A task running when the
# connection drops runs to its end: its outbox row records the outcome, and a broker message given out
# again for it finds the row delivered (core/outbox.py). config/celery.py works around the kombu bug that
# stopped a worker holding tasks (tests/reliability/test_broker_outage.py).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# The outbox (core/outbox.py): e-mails and background jobs are delivered at least once. A failed delivery
# is tried again after OUTBOX_BACKOFF_SECONDS, doubling each time up to OUTBOX_BACKOFF_MAX_SECONDS, and
# given up ("dead", listed for support) after OUTBOX_MAX_ATTEMPTS. The sweep runs every
# OUTBOX_SWEEP_SECONDS. A delivery holds its message for OUTBOX_CLAIM_SECONDS and renews the hold every
# third of that while its handler runs, so a live slow render keeps its message and a killed worker's
# message is taken up by the first sweep after its hold runs out: within OUTBOX_CLAIM_SECONDS +
# OUTBOX_SWEEP_SECONDS (60 s). A message handed to the broker but not taken by a worker (the web process
# died between marking it and publishing it) is handed over again after OUTBOX_REDISPATCH_SECONDS, by the
# next sweep: within OUTBOX_REDISPATCH_SECONDS + OUTBOX_SWEEP_SECONDS (50 s). tests/reliability test both.
OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "10"))
OUTBOX_BACKOFF_SECONDS = int(os.environ.get("OUTBOX_BACKOFF_SECONDS", "60"))
OUTBOX_BACKOFF_MAX_SECONDS = int(os.environ.get("OUTBOX_BACKOFF_MAX_SECONDS", "3600"))
OUTBOX_SWEEP_SECONDS = 30
OUTBOX_CLAIM_SECONDS = 30
OUTBOX_REDISPATCH_SECONDS = 20
# Waiting longer than this counts as overdue (manage.py check_health, and /readyz's backlog).
OUTBOX_OVERDUE_SECONDS = int(os.environ.get("OUTBOX_OVERDUE_SECONDS", "600"))
# An addendum document still "being generated" after one render's time limit and one sweep is stuck:
# the page says so and offers "Generate again", and check_health reports it.
ADDENDUM_RENDER_STALLED_SECONDS = CELERY_TASK_TIME_LIMIT + OUTBOX_SWEEP_SECONDS
CELERY_BEAT_SCHEDULE = {
    "certificate-expiry-watch": {
        "task": "certificates.tasks.watch_certificate_expiry",
        "schedule": crontab(hour=6, minute=15),
    },
    "monthly-billing": {
        "task": "billing.tasks.run_monthly_billing",
        "schedule": crontab(day_of_month=1, hour=2, minute=30),
    },
    "audit-checkpoint": {
        "task": "audit.tasks.write_audit_checkpoint",
        "schedule": timedelta(minutes=AUDIT_CHECKPOINT_EVERY_MINUTES),
    },
    # Just after midnight (CELERY_TIMEZONE is Copenhagen's): an access scheduled to close today closes today.
    "scheduled-closures": {
        "task": "ordering.tasks.close_scheduled_accesses",
        "schedule": crontab(hour=0, minute=15),
    },
    # Daily, after midnight: a startup package's test access expires on its end date, not the day after.
    "test-access-expiry": {
        "task": "ordering.tasks.watch_test_accesses",
        "schedule": crontab(hour=0, minute=25),
    },
    "outbox-sweep": {"task": "core.tasks.sweep_outbox", "schedule": float(OUTBOX_SWEEP_SECONDS)},
    "addendum-documents": {
        "task": "ordering.tasks.recover_addendum_documents",
        "schedule": float(OUTBOX_SWEEP_SECONDS),
    },
}

# The REST API (api/). Programs authenticate with API tokens (accounts/tokens.py), never with a session,
# so the API needs no CSRF token and a browser's cookies give it nothing.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.JSONParser"],  # DRF's, without its 500s (api/parsers.py)
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Opus Adgang API",
    "DESCRIPTION": "Order and follow access to KMD Opus Personale's web-service interfaces (README.md).",
    "VERSION": "1",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
# --- API: tokens, throttles, pagination (api/) ---
# Errors as RFC 9457 problems (api/problems.py); requests per token (api/throttling.py): DRF's rate
# notation, e.g. "120/min" or "5000/hour". The count lives in the cache API_THROTTLE_CACHE names; with
# several web processes, a shared one (API_THROTTLE_REDIS_URL), or each process counts on its own.
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "api.problems.exception_handler"
# Without a token DRF's request.user is Django's AnonymousUser (None broke the middleware that asks
# request.user.is_authenticated, e.g. config.middleware.PrivateCacheMiddleware, on /api/schema/).
REST_FRAMEWORK["UNAUTHENTICATED_USER"] = "django.contrib.auth.models.AnonymousUser"


def env_rate(name: str, default: str) -> str:
    rate = os.environ.get(name, default)
    count, _slash, period = rate.partition("/")
    if not (count.isdigit() and int(count) > 0 and period in {"s", "sec", "m", "min", "h", "hour", "d", "day"}):
        raise ImproperlyConfigured(f"{name} must look like 120/min or 5000/hour, not {rate!r}.")
    return rate


API_THROTTLE_RATE = env_rate("API_THROTTLE_RATE", "120/min")
# Requests with an unknown, expired or revoked token, per client address: past this they are answered 429.
API_INVALID_TOKEN_RATE = env_rate("API_INVALID_TOKEN_RATE", "20/min")
# Live (unrevoked, unexpired) personal tokens a user may have at once: each token has its own rate limit.
API_TOKENS_PER_USER = int(os.environ.get("API_TOKENS_PER_USER", "10"))
API_THROTTLE_REDIS_URL = os.environ.get("API_THROTTLE_REDIS_URL", "")
API_THROTTLE_CACHE = "api-throttle"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    API_THROTTLE_CACHE: (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": API_THROTTLE_REDIS_URL}
        if API_THROTTLE_REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "api-throttle"}
    ),
}
API_PAGE_SIZE = int(os.environ.get("API_PAGE_SIZE", "25"))
API_MAX_PAGE_SIZE = int(os.environ.get("API_MAX_PAGE_SIZE", "100"))
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {
    "OrderState": "ordering.models.State",
    "OrderEnvironment": "ordering.models.AccessOrder.Environment",
    "OrderReason": "ordering.models.AccessOrder.Reason",
}


# --- the access register (registers/) ---
# KMD's gateway reads the register signed (registers/jws.py): Ed25519, a private key of 32 random bytes in
# base64, handled as AUDIT_CHECKPOINT_KEY is (a published development key only in development). Earlier
# public keys stay published at /.well-known/opus-adgang-register-keys.json while gateways move on.
ACCESS_REGISTER_SIGNING_KEY = _key("ACCESS_REGISTER_SIGNING_KEY")
ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS = env_list("ACCESS_REGISTER_PREVIOUS_PUBLIC_KEYS")
# The key that will sign next, published in the key set before it signs so that gateways hold it when it does
# (README.md, "Rotating the register key"): public keys, 32 bytes in base64, comma-separated; never the current one.
ACCESS_REGISTER_NEXT_PUBLIC_KEYS = env_list("ACCESS_REGISTER_NEXT_PUBLIC_KEYS")
# After a new certificate is put into use the old one stays in the register this many days.
ACCESS_REGISTER_ROLLOVER_OVERLAP_DAYS = int(os.environ.get("ACCESS_REGISTER_ROLLOVER_OVERLAP_DAYS", "14"))

# --- webhooks (webhooks/) ---
# Signed webhooks (Standard Webhooks) from the outbox, README.md "Webhooks". A delivery is tried
# WEBHOOK_MAX_ATTEMPTS times with the outbox's back-off (OUTBOX_BACKOFF_SECONDS doubling, at most
# OUTBOX_BACKOFF_MAX_SECONDS: 12 attempts span about six hours), then given up for support.
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "12"))
# Endpoints must be https outside DEBUG; a receiver on plain http is for a developer's machine or the tests.
WEBHOOK_REQUIRE_HTTPS = env_bool("WEBHOOK_REQUIRE_HTTPS", not DEBUG)
# Webhooks never go to private, loopback, link-local or other non-public addresses (an endpoint URL
# must not reach into KMD's own network: SSRF), except to the networks listed here (CIDR, comma-separated),
# e.g. a provisioning system inside KMD's network, or 127.0.0.1/32 for the tests' receiver.
WEBHOOK_ALLOWED_NETWORKS = env_list("WEBHOOK_ALLOWED_NETWORKS")
# Webhook deliveries go to a Celery queue of their own, served by its own worker (README.md, "Run it in
# production"): a receiver that answers slowly then holds only those slots, never a render or an e-mail,
# which go to CELERY_TASK_DEFAULT_QUEUE.
WEBHOOK_QUEUE = os.environ.get("WEBHOOK_QUEUE", "webhooks")
WEBHOOK_CONNECT_TIMEOUT_SECONDS = 5
WEBHOOK_TIMEOUT_SECONDS = 10  # the whole request: connect, send, answer

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG and env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Outside DEBUG, HTTPS only: redirect plain HTTP and send HSTS for a year, unless the environment
# switches them off explicitly (SECURE_SSL_REDIRECT=0, SECURE_HSTS_SECONDS=0). Behind a reverse proxy
# that terminates TLS, set SECURE_PROXY_SSL=1, or every request looks like HTTP and is redirected.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Load balancers probe the health endpoints over plain HTTP on the inside (core/health.py); they say
# only "ok" or "failed", so answering them without TLS gives nothing away.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# /readyz answers 503 once more outbox messages than this are overdue (OUTBOX_OVERDUE_SECONDS), and
# gives the broker this many seconds to answer.
READY_OUTBOX_BACKLOG_MAX = int(os.environ.get("READY_OUTBOX_BACKLOG_MAX", "100"))
READY_BROKER_TIMEOUT = float(os.environ.get("READY_BROKER_TIMEOUT", "2"))
# /readyz fails when a queue (the default one, WEBHOOK_QUEUE) has had no live worker for this long (with a
# broker); each worker notes itself every WORKER_HEARTBEAT_SECONDS (core/workers.py).
READY_WORKER_SILENT_SECONDS = int(os.environ.get("READY_WORKER_SILENT_SECONDS", "120"))
WORKER_HEARTBEAT_SECONDS = max(1, READY_WORKER_SILENT_SECONDS // 4)
# /readyz fails when the private storage's volume has less free space than this: a threshold, so that an
# operator hears of it before renders and uploads fail.
READY_STORAGE_MIN_FREE_BYTES = int(os.environ.get("READY_STORAGE_MIN_FREE_BYTES", str(500 * 1024 * 1024)))
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# Only a registrable domain (example.dk, not adgang.example.dk) can enter browsers' preload lists, and
# only when its owner submits it, so on the app's host name the directive changes nothing.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
CSRF_FAILURE_VIEW = "core.security.csrf_failure"  # records the failure in the security log

# Sessions: logged out after SESSION_IDLE_TIMEOUT seconds without a request and, in any case,
# SESSION_ABSOLUTE_LIFETIME seconds after logging in (config/sessions.py tells the user why). The
# cookie and the stored session live no longer than the absolute lifetime either.
SESSION_IDLE_TIMEOUT = int(os.environ.get("SESSION_IDLE_TIMEOUT", str(30 * 60)))
SESSION_ABSOLUTE_LIFETIME = int(os.environ.get("SESSION_ABSOLUTE_LIFETIME", str(10 * 3600)))
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
SESSION_ENGINE = "accounts.session_store"  # Django's database sessions, read with a prepared query

# How people log in (docs/login.md). Customers: MitID Erhverv through a certified MitID broker over OpenID
# Connect; KMD's staff: Entra ID. Each is on when its client id is set. Passwords: everyone in the demo
# (DJANGO_DEBUG=1), otherwise only users marked "may log in with a password" (KMD's break-glass accounts),
# unless PASSWORD_LOGIN=all says everyone may.
PASSWORD_LOGIN = os.environ.get("PASSWORD_LOGIN", "all" if DEBUG else "break-glass")
# `make run` starts the demo's own MitID Erhverv broker and Entra ID on this machine (manage.py
# demo_identity_provider) and sets DEMO_IDENTITY_PROVIDER=1: the same code then logs in against them.
if DEBUG and env_bool("DEMO_IDENTITY_PROVIDER"):
    from config import demo_identities as _demo

    for _name, _value in {
        "MITID_OIDC_SERVER_URL": f"http://localhost:{_demo.MITID_PORT}",
        "MITID_OIDC_CLIENT_ID": _demo.CLIENT_ID,
        "MITID_OIDC_CLIENT_SECRET": _demo.CLIENT_SECRET,
        "ENTRA_SERVER_URL": f"http://localhost:{_demo.ENTRA_PORT}",
        "ENTRA_CLIENT_ID": _demo.CLIENT_ID,
        "ENTRA_CLIENT_SECRET": _demo.CLIENT_SECRET,
        "ENTRA_TENANT_ID": _demo.DEMO_TENANT,
    }.items():
        os.environ.setdefault(_name, _value)
MITID_OIDC_CLIENT_ID = os.environ.get("MITID_OIDC_CLIENT_ID", "")
MITID_OIDC_CLIENT_SECRET = os.environ.get("MITID_OIDC_CLIENT_SECRET", "")
MITID_OIDC_SERVER_URL = os.environ.get("MITID_OIDC_SERVER_URL", "")  # the broker's issuer (discovery is read from it)
MITID_CLAIM_PRESET = os.environ.get("MITID_CLAIM_PRESET", "signaturgruppen")  # accounts/oidc.py CLAIM_PRESETS
MITID_OIDC_SCOPES = os.environ.get(
    "MITID_OIDC_SCOPES", "openid nemlogin" if MITID_CLAIM_PRESET == "signaturgruppen" else "openid"
).split()
# The lowest NSIS assurance level a customer login may have: low, substantial or high.
MITID_MIN_ASSURANCE = os.environ.get("MITID_MIN_ASSURANCE", "substantial")
# Which claim holds each fact, where a broker differs from its preset: MITID_CLAIM_CVR, MITID_CLAIM_UUID, ...
MITID_CLAIM_OVERRIDES = {
    field: os.environ[f"MITID_CLAIM_{field.upper()}"]
    for field in ("cvr", "uuid", "rid", "name", "email", "assurance", "company_signatory")
    if f"MITID_CLAIM_{field.upper()}" in os.environ
}
ENTRA_TENANT_ID = os.environ.get("ENTRA_TENANT_ID", "")
ENTRA_CLIENT_ID = os.environ.get("ENTRA_CLIENT_ID", "")
ENTRA_CLIENT_SECRET = os.environ.get("ENTRA_CLIENT_SECRET", "")
ENTRA_SERVER_URL = os.environ.get(
    "ENTRA_SERVER_URL", f"https://login.microsoftonline.com/{ENTRA_TENANT_ID}/v2.0" if ENTRA_TENANT_ID else ""
)
# The app roles (Entra ID's `roles` claim) that make a KMD employee an account manager, support or catalogue admin.
ENTRA_ROLE_ACCOUNT_MANAGER = os.environ.get("ENTRA_ROLE_ACCOUNT_MANAGER", "OpusAdgang.Kundeansvarlig")
ENTRA_ROLE_SUPPORT = os.environ.get("ENTRA_ROLE_SUPPORT", "OpusAdgang.Support")
ENTRA_ROLE_CATALOGUE_ADMIN = os.environ.get("ENTRA_ROLE_CATALOGUE_ADMIN", "OpusAdgang.Katalogadministrator")
MITID_PROVIDER_ID = "mitid-erhverv"
ENTRA_PROVIDER_ID = "entra-id"


def _oidc_app(provider_id: str, name: str, client_id: str, secret: str, server_url: str, scopes: list[str]) -> dict:
    return {
        "provider_id": provider_id,
        "name": name,
        "client_id": client_id,
        "secret": secret,
        "settings": {
            "server_url": server_url,
            "oauth_pkce_enabled": True,  # allauth sends no nonce: PKCE and state bind the code to this browser
            "fetch_userinfo": False,  # the signed ID token carries what we use; a broker's userinfo is not signed
            "scope": scopes,
        },
    }


SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            app
            for app, on in (
                (
                    _oidc_app(
                        MITID_PROVIDER_ID,
                        "MitID Erhverv",
                        MITID_OIDC_CLIENT_ID,
                        MITID_OIDC_CLIENT_SECRET,
                        MITID_OIDC_SERVER_URL,
                        MITID_OIDC_SCOPES,
                    ),
                    bool(MITID_OIDC_CLIENT_ID and MITID_OIDC_SERVER_URL),
                ),
                (
                    _oidc_app(
                        ENTRA_PROVIDER_ID,
                        "Entra ID",
                        ENTRA_CLIENT_ID,
                        ENTRA_CLIENT_SECRET,
                        ENTRA_SERVER_URL,
                        ["openid", "profile", "email"],
                    ),
                    bool(ENTRA_CLIENT_ID and ENTRA_SERVER_URL),
                ),
            )
            if on
        ],
    }
}
SOCIALACCOUNT_ADAPTER = "ordering.login.LoginAdapter"
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # never match a person by e-mail
SOCIALACCOUNT_AUTO_SIGNUP = False
SOCIALACCOUNT_LOGIN_ON_GET = False  # the login buttons POST (with CSRF) to start a login
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_EMAIL_VERIFICATION = "none"
SITE_ID = 1

# Login lockout (django-axes), for the passwords that remain (the demo, KMD's break-glass accounts): after
# LOGIN_FAILURE_LIMIT failed logins for one username from one address, that username is refused from that
# address, so one person's typos never lock out the colleagues behind the same municipal NAT address.
# Trying many usernames from one address (spraying) is refused at LOGIN_ADDRESS_FAILURE_LIMIT failures from
# the address within the cool-off (accounts/lockout.py). Either lockout ends by itself after
# LOGIN_LOCKOUT_MINUTES; tries while locked out neither count nor prolong it. A catalogue admin can lift it
# early in the admin (Axes › Access attempts).
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
LOGIN_ADDRESS_FAILURE_LIMIT = int(os.environ.get("LOGIN_ADDRESS_FAILURE_LIMIT", "50"))
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"  # the Danish page, templates/registration/locked_out.html
AXES_CLIENT_IP_CALLABLE = "core.security.client_ip"  # the same address as the security log
AXES_VERBOSE = False  # failures and lockouts go to the security log; no banner on every command

# Production logs one JSON object per line (config/logs.py), with the order, event or addendum that
# background code names in `extra=`; a developer's terminal gets plain lines. Celery keeps to this
# configuration too (config/celery.py).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT is json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A URL's credentials (?token=…) are replaced in every line written (config/logs.py).
    "filters": {"query_secrets": {"()": "config.logs.RedactQuerySecrets"}},
    "formatters": {
        "json": {"()": "config.logs.JsonLinesFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["query_secrets"]},
        "security": {"class": "logging.StreamHandler", "formatter": "json", "filters": ["query_secrets"]},
        # runserver's access lines, as Django's own logging configures them, but filtered.
        "django.server": {"class": "logging.StreamHandler", "formatter": "django.server", "filters": ["query_secrets"]},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint and fontTools narrate every rendering step at INFO.
        **{name: {"level": "WARNING"} for name in ("weasyprint", "fontTools")},
        # Failed logins, lockouts, CSRF failures, refused actions: one JSON object per line (config/security.py).
        "security": {"handlers": ["security"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}
