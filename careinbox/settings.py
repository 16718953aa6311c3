"""CareInbox settings. Every setting comes from an environment variable listed in .env.example.

Without any environment the project runs on the embedded default: SQLite in the project folder
and Celery tasks executed eagerly in-process. DEBUG must be switched on explicitly (run.py does
so for the demo and the tests); with DEBUG off a missing SECRET_KEY stops the start-up.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "on"}:
        return True
    if value.lower() in {"0", "false", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, on/off; got {value!r}")


def envint(name: str, default: int) -> int:
    value = os.environ.get(name) or str(default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {value!r}") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def envsecret(name: str) -> str | None:
    """Read NAME, or the contents of the file named by NAME_FILE (Docker secrets)."""
    if path := os.environ.get(f"{name}_FILE"):
        return Path(path).read_text().strip()
    return os.environ.get(name) or None


DEBUG = envbool("DEBUG", False)

SECRET_KEY = envsecret("SECRET_KEY")
if SECRET_KEY is None:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is not set; set it (or DEBUG=1 for development).")
    SECRET_KEY = "careinbox-development-only-secret-key-never-use-in-production"

# Fernet keys encrypting channel credentials at rest, newest first, comma-separated (or in the
# file CAREINBOX_ENCRYPTION_KEYS_FILE names); without them a key is derived from SECRET_KEY.
# Make one with cryptography's Fernet.generate_key() (the README shows how).
CAREINBOX_ENCRYPTION_KEYS = [
    key.strip() for key in (envsecret("CAREINBOX_ENCRYPTION_KEYS") or "").split(",") if key.strip()
]

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Apps by domain, from the bottom up: each may use only those above it in this list
    # (the contracts in pyproject.toml check it). docs/architecture.md draws them.
    "channels",
    "staff",
    "customers",
    "sla",
    "routing",
    "cases",
    "notifications",
    "webhooks",
    "incidents",
    "casework",
    "intake",
    "workspace",
    "reporting",
    "operations",
    "api",
    # The tables' history from before the apps were laid out by domain.
    "legacy.tickets",
    "legacy.channels_in",
]
# The platform sandbox, the sample traffic and the simulated agents: for development and the
# tests only (run.py turns it on with DEBUG); nothing in the product imports it.
if envbool("CAREINBOX_DEMO", DEBUG):
    INSTALLED_APPS.append("demo")

# Django's database sessions, read with a prepared statement.
SESSION_ENGINE = "careinbox.sessions"


MIDDLEWARE = [
    # Times every request for /metrics, and names it for the log.
    "operations.metrics.RequestLatencyMiddleware",
    "careinbox.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which reads the form first: NUL taken out of every query and form field.
    "careinbox.middleware.StorableInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "careinbox.middleware.IdleSessionMiddleware",
    # A new install with no user sends its first visitor to the setup.
    "staff.middleware.FirstRunMiddleware",
    # A session that still owes its second factor sees only the page that asks for it.
    "staff.middleware.TwoFactorMiddleware",
    # Agents with a page open count as online for automatic assignment.
    "staff.middleware.LastSeenMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Refuses sign-ins from a locked-out account or address; last, as django-axes asks.
    "axes.middleware.AxesMiddleware",
]

# A signed-in session ends after this long without a request: a request moves the end on
# (at most once a minute, careinbox.middleware.IdleSessionMiddleware).
SESSION_COOKIE_AGE = envint("CAREINBOX_SESSION_IDLE_MINUTES", 8 * 60) * 60

# Sign-in throttling (django-axes), on every login form, the admin's included: after
# CAREINBOX_LOGIN_FAILURES failed attempts for one account, or from one address, further
# attempts are refused for CAREINBOX_LOGIN_LOCKOUT_MINUTES. Admins see the attempts and lift
# a lock-out in the admin (Axes → Access attempts: delete the row) or with
# `manage.py axes_reset_username USERNAME`.
AUTHENTICATION_BACKENDS = [
    # Refuses a locked-out sign-in before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "staff.backends.StaffBackend",
    # Sessions signed in before StaffBackend existed name this one: they stay signed in.
    # StaffBackend answers every permission first and keeps the answers where this one
    # looks for them, so it never reads them again.
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("CAREINBOX_LOGIN_FAILURES", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("CAREINBOX_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# Every sign-in and every failure is recorded for admins (Axes' access and failure logs).
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "careinbox.middleware.client_address"

# Agents, supervisors and managers see the cases of their own teams, those routed to no
# team and those assigned to them; admins see every case (cases.visibility).
CAREINBOX_TEAM_SCOPING = envbool("CAREINBOX_TEAM_SCOPING", True)

# Two-factor sign-in (staff.two_factor): required of admins and supervisors when on; anyone
# may turn it on for themselves.
CAREINBOX_REQUIRE_TWO_FACTOR = envbool("CAREINBOX_REQUIRE_TWO_FACTOR", False)
OTP_TOTP_ISSUER = "CareInbox"

# No inline scripts or styles on any page: scripts and styles come from static/ only, so a
# message that slipped a <script> or an event handler past sanitising still runs nothing.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# The REST API (the api app): a token per user or the browser's session, the roles of the
# workspace, one error body for every failure, and a request rate per user.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.PerUserThrottle"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.handle",
}
# Requests a user (or an address, signed out) may make to the API, e.g. "600/min".
CAREINBOX_API_RATE = os.environ.get("CAREINBOX_API_RATE", "600/min")
SPECTACULAR_SETTINGS = {
    "TITLE": "CareInbox API",
    "DESCRIPTION": (
        "Cases, customers, messages and replies of a CareInbox workspace. Authenticate with "
        "`Authorization: Token <key>` (each user makes theirs at /account/api-token/); every "
        "role rule of the workspace applies."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Operations grouped by what follows this: cases, customers, teams...
    "SCHEMA_PATH_PREFIX": "/api/v1/",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.Case.Status",
        "QuarantineStatusEnum": "intake.models.QuarantinedPayload.Status",
    },
}

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "workspace:inbox"
LOGOUT_REDIRECT_URL = "login"

ROOT_URLCONF = "careinbox.urls"
WSGI_APPLICATION = "careinbox.wsgi.application"

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
                "workspace.context_processors.workspace",
            ],
        },
    },
]

SILENCED_SYSTEM_CHECKS: list[str] = []

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'careinbox.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several threads of the demo write at once; wait for the lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    # SQLite builds the roll-ups' covering index (``caserollup_range``) without the columns it
    # includes, which only PostgreSQL reads from it; the index still serves SQLite by its keys.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # PostgreSQL compiles every plan estimated above jit_above_cost with LLVM. CareInbox's
    # queries are short, and the estimates of a young database run high: compiling took
    # longer than running them (0.15-0.35 s for ingest's 4 ms staff read; a second of the
    # backlog dashboard's 1.4 s), so its connections plan without JIT.
    options = DATABASES["default"].setdefault("OPTIONS", {})
    options["options"] = f"{options.get('options', '')} -c jit=off".strip()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

if not DEBUG:
    SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    # Behind a TLS-terminating reverse proxy, the header it sets to "https" (e.g.
    # X-Forwarded-Proto). Only set it when such a proxy is always in front and overwrites the
    # header: otherwise any client could claim HTTPS with it.
    if proxy_header := os.environ.get("SECURE_PROXY_SSL_HEADER", "").strip():
        SECURE_PROXY_SSL_HEADER = ("HTTP_" + proxy_header.upper().replace("-", "_"), "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", False)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
    # The browsers' preload list takes whole registrable domains (example.com), a decision for
    # the domain's owner rather than for one application on it; SECURE_HSTS_PRELOAD opts in.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

# Never below INFO, whatever LOG_LEVEL says: their debug lines hold each request's headers and
# URL, so the platforms' tokens (tests/channels/test_secrets.py).
LOGGERS: dict[str, dict[str, str]] = {"tweepy": {"level": "INFO"}, "urllib3": {"level": "INFO"}}
# With CAREINBOX_LOG_JSON=1 each log line is a JSON object (python-json-logger), with the
# request's id (careinbox/request_id.py) for tying a request's lines together.
LOG_FORMATTERS = {
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
    },
    "text": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "careinbox.request_id.RequestIdFilter"}},
    "formatters": LOG_FORMATTERS,
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if envbool("CAREINBOX_LOG_JSON", False) else "text",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": LOGGERS,
}

# Celery: with REDIS_URL a worker and beat do the background work; without it tasks run
# eagerly in the calling process, so the embedded default needs no broker.
REDIS_URL = os.environ.get("REDIS_URL") or None
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = REDIS_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
if CELERY_TASK_ALWAYS_EAGER:
    # Tasks run inside the web process; a line per task would drown its request log.
    LOGGERS["celery.app.trace"] = {"level": "WARNING"}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
# Identity linking has a queue of its own: it is the slower half of ingest and may lag in a
# burst, but must never hold up the polls and webhook deliveries behind it. A worker serves
# both unless told otherwise (`-Q celery,linking`, as docker-compose.yml runs it).
CELERY_TASK_ROUTES = {"casework.tasks.link_customers_task": {"queue": "linking"}}

# Who is viewing or replying on a case is kept in the cache: Redis when there is one, so every
# web process sees it; otherwise this process's memory (the single-process embedded default).
# While Redis is unreachable the cache misses (careinbox/cache.py), within these seconds.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 2}
CACHES = {
    "default": (
        {
            "BACKEND": "careinbox.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# A customer who writes again within this long of their case being resolved reopens it;
# later, a new case starts.
CAREINBOX_REOPEN_WINDOW = timedelta(days=envint("CAREINBOX_REOPEN_WINDOW_DAYS", 7))
# Satisfaction surveys (casework/surveys.py): sent this many minutes after a case is resolved
# (a case reopened meanwhile gets none), at most once per customer in the throttle's days, on
# the customer's private channel only; a reply within the answer window is read as the
# answer. The survey page asks the 0-10 recommendation question too when NPS is on.
CAREINBOX_SURVEYS = envbool("CAREINBOX_SURVEYS", True)
CAREINBOX_SURVEY_DELAY_MINUTES = envint("CAREINBOX_SURVEY_DELAY_MINUTES", 10)
CAREINBOX_SURVEY_THROTTLE_DAYS = envint("CAREINBOX_SURVEY_THROTTLE_DAYS", 30)
CAREINBOX_SURVEY_ANSWER_DAYS = envint("CAREINBOX_SURVEY_ANSWER_DAYS", 7)
CAREINBOX_SURVEY_NPS = envbool("CAREINBOX_SURVEY_NPS", False)
# Messages ingested in one transaction; a chunk that fails on one payload is split in halves
# until that payload is found and quarantined.
CAREINBOX_INGEST_CHUNK = envint("CAREINBOX_INGEST_CHUNK", 500)
# Incident detection at ingest, off by default while two workers ingesting at once may each
# propose an incident for the same problem (the first slice: no page or posting yet).
CAREINBOX_INCIDENTS = envbool("CAREINBOX_INCIDENTS", False)
# Incidents: a group of similar customer messages becomes a proposed incident once it holds
# this many messages from this many customers within the window; later similar messages join
# it until it has been quiet for CAREINBOX_INCIDENT_QUIET_HOURS.
CAREINBOX_INCIDENT_MIN_MESSAGES = envint("CAREINBOX_INCIDENT_MIN_MESSAGES", 8)
CAREINBOX_INCIDENT_MIN_CUSTOMERS = envint("CAREINBOX_INCIDENT_MIN_CUSTOMERS", 6)
CAREINBOX_INCIDENT_WINDOW_MINUTES = envint("CAREINBOX_INCIDENT_WINDOW_MINUTES", 120)
CAREINBOX_INCIDENT_QUIET_HOURS = envint("CAREINBOX_INCIDENT_QUIET_HOURS", 24)
# Webhook deliveries (intake/webhooks/deliveries.py): the largest body accepted (platforms
# batch events); how much a worker claims at once, in bytes of bodies and in deliveries; and
# how long a claim lasts before another worker may take over deliveries whose worker died.
CAREINBOX_WEBHOOK_MAX_BYTES = envint("CAREINBOX_WEBHOOK_MAX_BYTES", 64 * 1024 * 1024)
CAREINBOX_WEBHOOK_BATCH_BYTES = envint("CAREINBOX_WEBHOOK_BATCH_BYTES", 2 * 1024 * 1024)
CAREINBOX_WEBHOOK_BATCH_DELIVERIES = envint("CAREINBOX_WEBHOOK_BATCH_DELIVERIES", 500)
CAREINBOX_WEBHOOK_LEASE_SECONDS = envint("CAREINBOX_WEBHOOK_LEASE_SECONDS", 300)
# Outbound webhooks (webhooks/delivery.py): how long a receiver has to answer, and how many
# tries a delivery gets (30 s, 1 min, 2 min ... apart, at most 6 h) before it is failed.
CAREINBOX_WEBHOOK_TIMEOUT_SECONDS = envint("CAREINBOX_WEBHOOK_TIMEOUT_SECONDS", 5)
CAREINBOX_WEBHOOK_MAX_ATTEMPTS = envint("CAREINBOX_WEBHOOK_MAX_ATTEMPTS", 8)

# /readyz (operations/health.py) fails when an enabled account's last successful poll, or the
# oldest reply waiting to be sent, is older than these; /metrics answers the bearer token
# CAREINBOX_METRICS_TOKEN (and admins signed in).
CAREINBOX_READY_POLL_AGE_SECONDS = envint("CAREINBOX_READY_POLL_AGE_SECONDS", 30 * 60)
CAREINBOX_READY_REPLY_AGE_SECONDS = envint("CAREINBOX_READY_REPLY_AGE_SECONDS", 30 * 60)
CAREINBOX_METRICS_TOKEN = envsecret("CAREINBOX_METRICS_TOKEN") or ""

# The public contact form (intake/contact_views.py): submissions per address (django-ratelimit,
# counted in the default cache; behind a proxy set RATELIMIT_IP_META_KEY), the seconds a
# person takes at least, the largest attachment, and the sites that may frame it.
CAREINBOX_CONTACT_FORM_RATE = os.environ.get("CAREINBOX_CONTACT_FORM_RATE", "5/h")
CAREINBOX_CONTACT_FORM_MIN_SECONDS = envint("CAREINBOX_CONTACT_FORM_MIN_SECONDS", 3)
CAREINBOX_CONTACT_FORM_MAX_ATTACHMENT_BYTES = envint(
    "CAREINBOX_CONTACT_FORM_MAX_ATTACHMENT_BYTES", 10 * 1024 * 1024
)
CAREINBOX_CONTACT_FORM_FRAME_ANCESTORS = envlist("CAREINBOX_CONTACT_FORM_FRAME_ANCESTORS", "*")
if "RATELIMIT_IP_META_KEY" in os.environ:
    RATELIMIT_IP_META_KEY = os.environ["RATELIMIT_IP_META_KEY"]

# Message text longer than this many characters is stored cut, marked as cut, and shown so on
# the case page; the whole text is kept beside it for download. Far above any real message
# (a tweet is at most 25,000 characters), low enough that a 50 MB mail does not make the
# case page ship 50 MB.
CAREINBOX_MESSAGE_TEXT_LIMIT = envint("CAREINBOX_MESSAGE_TEXT_LIMIT", 100_000)

# Attachments larger than this are recorded (name, type, size) but their content is skipped.
CAREINBOX_ATTACHMENT_MAX_BYTES = envint("CAREINBOX_ATTACHMENT_MAX_BYTES", 25 * 1024 * 1024)

# Identity linking (casework/linking.py). The brand's own handles and addresses are never
# evidence about a customer.
CAREINBOX_BRAND_IDENTITIES = envlist(
    "CAREINBOX_BRAND_IDENTITIES", "@acme_care,care@acme-home.example"
)
# The brand's order, account and case reference formats, as regular expressions separated by
# whitespace (a regex may contain commas). Defaults: the sample brand's orders (AH-20931-UK,
# US-558102), account numbers (7710-2291-04) and case or repair references (CR-448190).
CAREINBOX_REFERENCE_PATTERNS = os.environ.get(
    "CAREINBOX_REFERENCE_PATTERNS",
    r"AH-\d{5}-[A-Z]{2} US-\d{6} \d{4}-\d{4}-\d{2} [A-Z]{2,3}\d?-\d{5,}(?:-\d+)?",
).split()
# Region for phone numbers written without a country code.
CAREINBOX_PHONE_REGION = os.environ.get("CAREINBOX_PHONE_REGION", "GB")
# Whether agents may merge customers from a suggestion; otherwise only supervisors may.
CAREINBOX_AGENTS_MAY_MERGE = envbool("CAREINBOX_AGENTS_MAY_MERGE", False)

# Service levels (cases/clocks.py): the "SLA at risk" queue holds cases due within this many
# minutes (or overdue); beat checks for breaches this often.
CAREINBOX_SLA_AT_RISK_MINUTES = envint("CAREINBOX_SLA_AT_RISK_MINUTES", 60)
CAREINBOX_SLA_CHECK_SECONDS = envint("CAREINBOX_SLA_CHECK_SECONDS", 60)
# Auto-assignment (casework/assignment.py): an agent is online for this long after their last
# request; beat hands out waiting cases this often.
CAREINBOX_AGENT_ONLINE_SECONDS = envint("CAREINBOX_AGENT_ONLINE_SECONDS", 120)
CAREINBOX_AUTO_ASSIGN_TICK_SECONDS = envint("CAREINBOX_AUTO_ASSIGN_TICK_SECONDS", 30)
# Where the workspace is served, for links in notification emails, e.g.
# https://care.example.com; empty gives the path alone.
CAREINBOX_SITE_URL = os.environ.get("CAREINBOX_SITE_URL", "")

# Notification email (SLA breaches) goes through the default mailer: the SMTP server
# EMAIL_HOST, or, with DEBUG on and no EMAIL_HOST, the console.
MAILERS = {
    "default": (
        {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
        if DEBUG and not os.environ.get("EMAIL_HOST")
        else {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST") or "localhost",
                "port": envint("EMAIL_PORT", 25),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": envsecret("EMAIL_HOST_PASSWORD") or "",
                "use_tls": envbool("EMAIL_USE_TLS", False),
                "use_ssl": envbool("EMAIL_USE_SSL", False),
                "timeout": envint("EMAIL_TIMEOUT", 30),
            },
        }
    )
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "CareInbox <careinbox@localhost>")

# Beat looks for due channel accounts this often; each account's own interval decides.
CELERY_BEAT_SCHEDULE = {
    "poll-due-accounts": {
        "task": "intake.tasks.poll_due_accounts_task",
        "schedule": float(envint("CAREINBOX_POLL_TICK_SECONDS", 10)),
    },
    "retry-due-replies": {
        "task": "casework.tasks.retry_due_replies_task",
        "schedule": float(envint("CAREINBOX_POLL_TICK_SECONDS", 10)),
    },
    "deliver-due-webhooks": {
        "task": "webhooks.tasks.deliver_due_webhooks_task",
        "schedule": float(envint("CAREINBOX_POLL_TICK_SECONDS", 10)),
    },
    "check-sla-breaches": {
        "task": "casework.tasks.check_sla_breaches_task",
        "schedule": float(CAREINBOX_SLA_CHECK_SECONDS),
    },
    "drain-webhook-deliveries": {
        "task": "intake.tasks.drain_webhook_deliveries_task",
        "schedule": float(envint("CAREINBOX_POLL_TICK_SECONDS", 10)),
    },
    "compact-case-counts": {
        "task": "casework.tasks.compact_case_counts_task",
        "schedule": 60.0,
    },
    "assign-waiting-cases": {
        "task": "casework.tasks.assign_waiting_cases_task",
        "schedule": float(CAREINBOX_AUTO_ASSIGN_TICK_SECONDS),
    },
}
# How long a worker polling an account, or sending a reply, holds it: if the worker dies,
# another may take over after this. Longer than any poll or send takes.
CAREINBOX_POLL_LOCK_SECONDS = envint("CAREINBOX_POLL_LOCK_SECONDS", 300)
CAREINBOX_SEND_LOCK_SECONDS = envint("CAREINBOX_SEND_LOCK_SECONDS", 120)
# The most an email reply's attachments may weigh together; mail providers commonly refuse
# mails much over 10 MB once encoded.
CAREINBOX_REPLY_ATTACHMENT_MAX_BYTES = envint(
    "CAREINBOX_REPLY_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024
)
