"""WinWin CRM settings: one module, configured from the environment.

Defaults give the embedded setup (SQLite under var/, Celery eager, DEBUG on) so a fresh
clone runs with nothing else installed. Production sets DATABASE_URL, REDIS_URL,
SECRET_KEY and DEBUG=false.
"""

import os
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

# A development key is only acceptable while DEBUG is on; production must bring its own.
_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG=false WinWin CRM refuses to start without "
            "a SECRET_KEY environment variable (50+ random characters)."
        )
    SECRET_KEY = _DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "django_htmx",
    "axes",
    "winwin_crm.accounts",
    "deals",
    "handoff",
    "deals.buyer_room",
    "winwin_crm.notifications",
]

MIDDLEWARE = [
    # First: decides the client IP and whether X-Forwarded-Proto may be believed.
    "winwin_crm.proxy.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "winwin_crm.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "winwin_crm.middleware.LoginRequiredEverywhereMiddleware",
    # Axes last: it reads the outcome of authentication.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "winwin_crm.urls"
WSGI_APPLICATION = "winwin_crm.wsgi.application"
ASGI_APPLICATION = "winwin_crm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "winwin_crm.context_processors.roles",
            ],
            # Money, percent and date formatting for every page, without a {% load %}.
            "builtins": ["winwin_crm.templatetags.ui"],
        },
    },
]

# --- Database -------------------------------------------------------------------------
# Embedded default: an SQLite file under var/. PostgreSQL: DATABASE_URL=postgres://...
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'winwin.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a background command writes.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = "PRAGMA journal_mode=WAL;"
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # Tests on a file, not in memory: the browser tests' live server answers a page's
    # parallel requests in threads, and an in-memory database is one connection shared by
    # all of them, which Django's docs warn can fail at random (here it hung). One file per
    # test process: a second run (one test in another terminal) must not delete this one's.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test_winwin_{os.getpid()}.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # No JIT: the app's statements are short, and a plan estimated dear (one with a
    # branch that is gated off, as the dashboard's sums have) spent 60 ms compiling a
    # statement that runs in 1.5 ms (bench/RESULTS.md, 2026-12-02 14:00).
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Covering indexes (INCLUDE) are a PostgreSQL feature; SQLite builds them without the extra
# columns, which is fine for the embedded default.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# --- Auth -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's model backend, loading the user's roles and teams with their row (one
    # query). Sessions signed in under the plain ModelBackend end once, at the upgrade.
    "winwin_crm.accounts.backends.MembershipsBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Paths reachable without logging in; everything else redirects (pages) or answers 401/403 (API).
LOGIN_EXEMPT_PATHS = [
    "/healthz",
    "/accounts/login/",
    "/api/v1/auth/token/",
    "/static/",
    "/buyer/",  # the buyer room: its token is the credential (deals/buyer_room/)
]

# Failed-login throttling (django-axes): lock a username+IP after repeated failures, for a
# cool-off. Never the account alone: the owner's right password from another IP still works.
# The IP is the real client's, read by winwin_crm.proxy from the trusted proxies only.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "winwin_crm.proxy.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "winwin_crm.proxy.lockout_response"

# --- Reverse proxy ----------------------------------------------------------------------
# Addresses (IPs or CIDR ranges) of the TLS proxies in front of gunicorn. Only a request
# whose peer is one of them may say X-Forwarded-For / X-Forwarded-Proto; from anyone else
# those headers are dropped. TRUSTED_PROXY_COUNT: how many proxies append to X-Forwarded-For
# (the client is that many entries from the right).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1)
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_VERBOSE = False

# --- I18N / time ------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "winwin_crm.storage.ManifestStaticStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Cache ------------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -----------------------------------------------------------------------------
# Without a broker the embedded default runs every task in-process, so one command gives
# a working app. CELERY_TASK_ALWAYS_EAGER can force either way.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = timedelta(days=1)
# A task is acknowledged only after it finishes, and requeued if its worker dies, so a
# killed worker loses no recompute; tasks are idempotent, so a rerun is harmless.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# With Redis, a task taken by a worker that dies unacknowledged is redelivered after this
# many seconds. It must exceed the longest task (the time limit below) or a slow task
# would run twice in parallel.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60 * 60),
}
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# Autodiscovery finds only <app>.tasks; these live elsewhere (the project, a subpackage).
CELERY_IMPORTS = [
    "winwin_crm.tasks",
    "deals.imports.tasks",
    "deals.mail.tasks",
    "winwin_crm.notifications.tasks",
]
CELERY_BEAT_SCHEDULE = {
    "health-sweep-hourly": {
        "task": "deals.tasks.health_sweep_task",
        "schedule": crontab(minute=7),
    },
    "notifications-daily-digest": {
        "task": "winwin_crm.notifications.tasks.notifications_digest_task",
        "schedule": crontab(hour=7, minute=0),
    },
    "handoff-reminders": {
        "task": "winwin_crm.notifications.tasks.handoff_reminders_task",
        "schedule": crontab(minute="*/15"),
    },
    "mail-purge-daily": {
        "task": "deals.mail.tasks.mail_purge_task",
        "schedule": crontab(minute=23, hour=3),
    },
}

# --- Email ------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
# Links in emails and API answers (the buyer room's private links) are absolute: the
# address people reach the app at.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="WinWin CRM <noreply@winwin.local>")

# --- Captured mail (deals/mail/) -------------------------------------------------------
# Addresses are deal+ID@ and u.<user id>.<signature>@ this domain.
MAIL_DROP_DOMAIN = env.str("MAIL_DROP_DOMAIN", default="mail.winwin.test")
# Senders' domains the drop accepts (the company's); empty = the domains of active users.
MAIL_DROP_ALLOWED_DOMAINS = [d.lower() for d in env.list("MAIL_DROP_ALLOWED_DOMAINS", default=[])]
# Signs the per-user and per-deal drop addresses (defaults to SECRET_KEY).
MAIL_DROP_SECRET = env.str("MAIL_DROP_SECRET", default="")
# A mail provider's inbound webhook posts to /api/v1/mail/ with this in X-Mail-Secret.
MAIL_WEBHOOK_SECRET = env.str("MAIL_WEBHOOK_SECRET", default="")
# Unassigned and discarded mail is deleted after this many days.
MAIL_INBOX_RETENTION_DAYS = env.int("MAIL_INBOX_RETENTION_DAYS", default=30)
# SMTP AUTH over plain TCP is refused unless this is on (a drop behind TLS termination).
MAIL_DROP_AUTH_REQUIRE_TLS = env.bool("MAIL_DROP_AUTH_REQUIRE_TLS", default=not DEBUG)

# --- REST API ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "winwin_crm.api.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON parsing that answers 400 (not a RecursionError 500) on absurdly nested input.
    "DEFAULT_PARSER_CLASSES": [
        "winwin_crm.api.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "winwin_crm.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "winwin_crm.api.filters.FilterParamsBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "winwin_crm.api.exceptions.exception_handler",
    # DRF's user and anon throttles, in one round trip when the cache is Redis.
    "DEFAULT_THROTTLE_CLASSES": [
        "winwin_crm.api.throttling.UserRateThrottle",
        "winwin_crm.api.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="6000/min"),
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
# API tokens (django-rest-knox): stored hashed, one per login, expire after
# API_TOKEN_IDLE_DAYS without use (each use slides the expiry, at most once a minute).
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_IDLE_DAYS", default=30)),
    "AUTO_REFRESH": True,
    "MIN_REFRESH_INTERVAL": 60,
    "AUTH_HEADER_PREFIX": "Token",
}
# Tokens a user may hold at once; a new login past it retires the oldest.
API_TOKENS_PER_USER = env.int("API_TOKENS_PER_USER", default=20)

SPECTACULAR_SETTINGS = {
    "TITLE": "WinWin CRM API",
    "DESCRIPTION": (
        "Deals that stay a win for both sides, and handoffs that keep every promise. "
        "Authenticate with `POST /api/v1/auth/token/` and send `Authorization: Token <key>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "deals.buyer_room.schema.add_buyer_room_paths",  # the /buyer/<token>/ pages
    ],
    # Several models have a "kind", "status" or "side"; name each choice set after its model.
    "ENUM_NAME_OVERRIDES": {
        "NeedKindEnum": "deals.models.Need.Kind",
        "ActivityKindEnum": "deals.models.Activity.Kind",
        "ConcessionKindEnum": "deals.models.Concession.Kind",
        "DisclosureKindEnum": "deals.models.Disclosure.Kind",
        "ImportKindEnum": "deals.models.ImportJob.Kind",
        "ImportStatusEnum": "deals.models.ImportJob.Status",
        "MilestoneSideEnum": "deals.models.BuyerMilestone.Side",
        "FlagSideEnum": "deals.models.Side",
        "FlagStatusEnum": "deals.models.Flag.Status",
        "CommitmentStatusEnum": "deals.models.Commitment.Status",
        "HandoffStatusEnum": "handoff.models.Handoff.Status",
        "HandoffMessageKindEnum": "handoff.models.HandoffMessage.Kind",
    },
}

# --- Security (production) --------------------------------------------------------------
# Believed only from TRUSTED_PROXIES (winwin_crm.proxy drops it from anyone else), so HSTS
# and secure redirects follow what really reached the TLS proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}

# --- Request limits ---------------------------------------------------------------------
# A request body (other than file uploads) larger than this is refused (400) before parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("REQUEST_MAX_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
# Content-Security-Policy of every response: scripts and styles from this site only (htmx
# and Chart.js are vendored under /static/), no inline script, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# --- Product settings -------------------------------------------------------------------
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# Buyer room rate limits, per client IP: requests per minute, and failed token lookups
# per 10 minutes (what an enumeration attempt produces).
BUYER_ROOM_REQUESTS_PER_MINUTE = env.int("BUYER_ROOM_REQUESTS_PER_MINUTE", default=60)
BUYER_ROOM_FAILURES_PER_10_MINUTES = env.int("BUYER_ROOM_FAILURES_PER_10_MINUTES", default=20)
