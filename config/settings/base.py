"""Settings shared by every environment.

Everything that differs between machines is read from the environment through
django-environ. ``FileAwareEnv`` lets any variable be given as ``NAME_FILE`` pointing at
a file (Docker secrets). With no environment at all the service runs on the embedded
default: SQLite, a local-memory cache, Celery tasks executed eagerly, console e-mail.
"""

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured

# Django's admin and form classes take type arguments (ModelAdmin[Batch]) as their stubs
# do; DRF's and the ORM's already do.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.FileAwareEnv()
environ.FileAwareEnv.read_env(BASE_DIR / ".env", overwrite=False)

DEFAULT_SECRET_KEY = "insecure-development-key-change-me-0123456789abcdef"  # noqa: S105

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEFAULT_SECRET_KEY)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

# --- applications -----------------------------------------------------------------

INSTALLED_APPS = [
    # django.contrib.admin with the project's site: second factor (accounts/admin_security).
    "accounts.admin_app.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "csp",
    "axes",
    "django_celery_beat",
    "django_structlog",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_prometheus",
    "core",
    "accounts",
    "rbac",
    "audit",
    "sites",
    "batches",
    "serializations",
    "inspections",
    "notifications",
    "webhooks",
    "reports",
    "demo",
]

MIDDLEWARE = [
    # Outermost: the request id and context, then, once answered, the request's one
    # access log line and its metrics (request counts and latencies per view).
    "core.middleware.RequestContextMiddleware",
    "audit.middleware.AuditAccessMiddleware",
    # Sign-ins from an address already refused for failing too often: 429 before the rest.
    "accounts.signin_guard.SignInFloodMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.csp.ContentSecurityPolicyMiddleware",  # django-csp's, the header built once
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # ADMIN_MIDDLEWARE, for /admin/ only.
    "core.middleware.AdminMiddleware",
    # Axes' lockout answer (429 JSON) for every sign-in: the API's and the admin's.
    "axes.middleware.AxesMiddleware",
]
# What only the admin's pages need: the API signs in with a JWT and keeps no session.
# core.checks checks that the admin's own middleware is here.
ADMIN_MIDDLEWARE = [
    # Admin pages answer 404 outside ADMIN_ALLOWED_NETWORKS (refusals are audited).
    "accounts.admin_security.AdminAllowlistMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A 503 with Retry-After when every password-hashing slot is taken (DRF has its own).
    "accounts.hashers.PasswordHashingBusyMiddleware",
]
# The admin's and Django's CSRF checks look for their middleware in MIDDLEWARE only;
# core.checks looks in ADMIN_MIDDLEWARE for the same (and for CSRF_COOKIE_SECURE).
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410", "security.W003"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# --- database ---------------------------------------------------------------------

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Least privilege: the service connects as a role that owns no table (DATABASE_URL);
# `manage.py migrate` alone connects as the owner (DATABASE_MIGRATE_URL) and then grants
# the service's role its row access (audit/dbroles.py).
DATABASE_APP_ROLE = DATABASES["default"].get("USER", "")
# Archiving the audit trail detaches partitions: the owner's work too (audit/archive.py).
OWNER_COMMANDS = (["migrate"], ["archive_audit"])
if env.str("DATABASE_MIGRATE_URL", default="") and sys.argv[1:2] in OWNER_COMMANDS:
    DATABASES["default"] = env.db("DATABASE_MIGRATE_URL")
DATABASE_STATEMENT_TIMEOUT_MS = env.int("DATABASE_STATEMENT_TIMEOUT_MS", default=30_000)
DATABASE_POOL = env.bool("DATABASE_POOL", default=True)
# Streaming replicas of a PostgreSQL primary, for the API's reads (core/replicas.py).
DATABASE_REPLICA_URLS: list[str] = env.list("DATABASE_REPLICA_URLS", default=[])

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's PostgreSQL backend with a cheaper pool health check (core/dbbackend).
    DATABASES["default"]["ENGINE"] = "core.dbbackend"
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # A runaway query is cut off by the server instead of holding a worker forever.
    _options["options"] = f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}"
    _options.setdefault("connect_timeout", env.int("DATABASE_CONNECT_TIMEOUT", default=5))
    if DATABASE_POOL:
        # Django's own psycopg 3 pool; persistent connections must then be off. The pool
        # health-checks every connection it hands out, with no extra round trip unless
        # the server closed or wrote to the connection.
        _options["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=10),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
            "max_idle": 300.0,
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Streaming replicas for the API's reads (core/replicas.py): the primary's settings,
    # a short wait for a connection (a dead replica must cost no request a long wait).
    for _n, _url in enumerate(DATABASE_REPLICA_URLS):
        _replica = {**DATABASES["default"], **env.db_url_config(_url)}
        _replica["ENGINE"] = DATABASES["default"]["ENGINE"]
        _replica_options = _replica["OPTIONS"] = dict(DATABASES["default"]["OPTIONS"])
        _replica_options["connect_timeout"] = env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", 1)
        if "pool" in _replica_options:
            _replica_options["pool"] = {
                **_replica_options["pool"],
                "timeout": env.float("DATABASE_REPLICA_POOL_TIMEOUT", default=1.0),
            }
        _replica["TEST"] = {"MIRROR": "default"}  # a test run reads the test database
        DATABASES[f"replica_{_n}"] = _replica
    if DATABASE_REPLICA_URLS:
        DATABASE_ROUTERS = ["core.replicas.ReplicaRouter"]
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if DATABASE_REPLICA_URLS:
        raise ImproperlyConfigured("DATABASE_REPLICA_URLS needs a PostgreSQL DATABASE_URL.")
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

# A caller who wrote reads the primary this long after (read-your-writes).
DATABASE_REPLICA_PIN_SECONDS = env.float("DATABASE_REPLICA_PIN_SECONDS", default=5.0)
# A replica whose replay lags more than this is skipped until it catches up.
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=2.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=1.0)

# Hash partitions of the serial table by GTIN (PostgreSQL), read when its partitioning
# migration runs (serializations/migrations/0004); changing it later changes nothing.
SERIAL_PARTITIONS = env.int("SERIAL_PARTITIONS", default=16)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ------------------------------------------------------------------------

REDIS_URL = env.str("REDIS_URL", default="")
CACHE_SOCKET_TIMEOUT = env.float("CACHE_SOCKET_TIMEOUT", default=0.25)

if REDIS_URL:
    CACHES = {
        "default": {
            # django-redis, with hit/miss counters for /metrics (core/cachebackend.py).
            "BACKEND": "core.cachebackend.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="pharma"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                # A dead Redis must cost milliseconds, not seconds: short timeouts and
                # errors turned into cache misses.
                "SOCKET_CONNECT_TIMEOUT": CACHE_SOCKET_TIMEOUT,
                "SOCKET_TIMEOUT": CACHE_SOCKET_TIMEOUT,
                "IGNORE_EXCEPTIONS": True,
                "CONNECTION_POOL_KWARGS": {"max_connections": 50, "retry_on_timeout": False},
            },
        }
    }
    DJANGO_REDIS_IGNORE_EXCEPTIONS = True
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    DJANGO_REDIS_LOGGER = "cache"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "pharma",
        }
    }

# --- authentication ---------------------------------------------------------------

AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    # axes first: it refuses locked-out credentials before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Authenticates like ModelBackend; every permission question goes to the rbac resolver.
    "rbac.backends.RBACBackend",
]

# argon2id at OWASP's parameters (accounts/hashers.py). Hashes stored with PBKDF2 still
# verify, and are replaced by argon2id hashes at their owners' next successful sign-in.
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",
    "accounts.hashers.PBKDF2PasswordHasher",
]
# At most this many password hashes run at once in one process; one more is refused at
# once with 503 and Retry-After. Keep it below the worker's threads (config/gunicorn.py)
# so hashing never holds them all; 0 turns the cap off.
PASSWORD_HASH_CONCURRENCY = env.int("PASSWORD_HASH_CONCURRENCY", default=2)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed logins are counted in the database (not the cache), keyed by the pair
# username + client IP, so a lockout holds even when Redis is down. The handler is
# axes' database handler, telling a new lockout from a refusal during one.
AXES_HANDLER = "accounts.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=15))
AXES_USE_ATTEMPT_EXPIRATION = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "core.context.client_ip_for_request"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# No axes access log of successful sign-ins: it keys each row by a session, and creates
# a Django session for a request that has none, so every API sign-in (JWT, no session)
# wrote an empty session row and set a cookie. Sign-ins and sign-outs are in the audit
# trail; Django sessions belong to the admin only.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Failed sign-ins and signature passwords per client IP, whatever the username, before
# that IP's password checks are refused (429) until the window ends (accounts/signin_guard.py).
LOGIN_IP_FAILURE_RATE = env.str("LOGIN_IP_FAILURE_RATE", default="20/min") or None

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "ISSUER": env.str("JWT_ISSUER", default="pharma-mes"),
    "AUDIENCE": env.str("JWT_AUDIENCE", default="pharma-mes-api"),
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_OBTAIN_SERIALIZER": "accounts.api.serializers.LoginInputSerializer",
}

# --- REST framework ---------------------------------------------------------------

REST_FRAMEWORK = {
    # /api/ is version 1 of the contract (openapi/v1.yaml); a client may name it,
    # ``Accept: application/json; version=1``, and another version is a 406.
    "DEFAULT_VERSIONING_CLASS": "rest_framework.versioning.AcceptHeaderVersioning",
    "DEFAULT_VERSION": "1",
    "ALLOWED_VERSIONS": ("1",),
    "DEFAULT_AUTHENTICATION_CLASSES": ["rbac.authentication.JWTAuthentication"],
    # Fail closed: a view states the codename of each action or it refuses everyone.
    "DEFAULT_PERMISSION_CLASSES": ["rbac.enforcement.HasPermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_FILTER_BACKENDS": [
        "core.filters.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # A load guard (core/throttling.py): fixed windows in the cache, open when it is down.
    # Generous so that tests, benchmarks and fuzzing never meet it; sign-in lockout is axes.
    "DEFAULT_THROTTLE_CLASSES": [
        "core.throttling.AnonRateThrottle",
        "core.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON_RATE", default="3000/min") or None,
        "user": env.str("THROTTLE_USER_RATE", default="30000/min") or None,
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Pharma manufacturing API",
    "DESCRIPTION": (
        "Sites, products, production batches, serial numbers and QA inspections, "
        "with an append-only audit trail (21 CFR Part 11, EU GMP Annex 11). "
        "Authenticate with `POST /api/auth/token/` and send `Authorization: Bearer <access>`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The published events' payloads (webhooks.schema), then drf-spectacular's own.
    "POSTPROCESSING_HOOKS": [
        "webhooks.schema.webhook_events",
        "drf_spectacular.hooks.postprocess_schema_enums",
    ],
    "SCHEMA_PATH_PREFIX": "/api/",
    # No online validator badge: it would send the schema URL to validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "validatorUrl": None},
    "ENUM_NAME_OVERRIDES": {
        "BatchStatusEnum": "batches.choices.BatchStatus",
        "InspectionStatusEnum": "inspections.choices.InspectionStatus",
        "SerialStatusEnum": "serializations.choices.SerialStatus",
        "SerialJobStatusEnum": "serializations.choices.JobStatus",
        "ContainerKindEnum": "serializations.choices.ContainerKind",
        "KindEnum": "inspections.choices.InspectionKind",
        "ContainerStatusEnum": "serializations.choices.ContainerStatus",
        "BroadcastStatusEnum": "notifications.models.BroadcastStatus",
        "DeliveryStatusEnum": "webhooks.models.DeliveryStatus",
    },
}

# --- security headers -------------------------------------------------------------

# One Content-Security-Policy on every response (django-csp). Scripts come only from the
# service itself: no inline script, no eval, no CDN. Inline styles stay allowed (Swagger
# UI and Redoc set style attributes from script); Redoc renders in a blob: worker.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- request handling -------------------------------------------------------------

# Bounded request bodies: larger JSON bodies are refused with 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BODY_BYTES", default=2 * 1024 * 1024)
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

# How many reverse proxies in front of the service append to X-Forwarded-For. Only that
# many right-most entries are trusted; 0 means the socket peer is the client.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

CORS_ALLOWED_ORIGINS: list[str] = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "x-request-id",
    "x-change-reason",
)
CORS_EXPOSE_HEADERS = ["X-Request-ID"]
CORS_URLS_REGEX = r"^/api/.*$"

# --- i18n, static -----------------------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- e-mail -----------------------------------------------------------------------

_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email.get("EMAIL_HOST", "")
EMAIL_PORT = _email.get("EMAIL_PORT") or 25
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="pharma-mes@localhost")
EMAIL_SUBJECT_PREFIX = env.str("EMAIL_SUBJECT_PREFIX", default="[Pharma MES] ")

# --- Celery -----------------------------------------------------------------------

CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# Without a broker every task runs in-process, at the moment it is sent.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when the broker is gone, so callers can fall back.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    "max_retries": 1,
    # ...and retry at once: kombu waits 2 s before its retry by default, which every
    # publish to a dead broker (and the request that made it) would pay.
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
    # A task whose worker died is redelivered after this long (Redis broker).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # How often a worker looks for such tasks: every interval x throttle seconds.
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
}
CELERY_TASK_PUBLISH_RETRY = False

# --- logging ----------------------------------------------------------------------

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")  # json or console

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_context": {"()": "core.logging.RequestContextFilter"},
        "cache_errors": {"()": "core.logging.CacheErrorFilter"},
    },
    "formatters": {
        "json": {"()": "core.logging.json_formatter"},
        "console": {"()": "core.logging.console_formatter"},
        # The same JSON, for the one line per request, without the processor chain.
        "access_json": {"()": "core.logging.AccessJSONFormatter"},
    },
    "handlers": {
        "default": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_context"],
        },
        "access": {
            "class": "logging.StreamHandler",
            "formatter": "access_json" if LOG_FORMAT == "json" else LOG_FORMAT,
            "filters": ["request_context"],
        },
    },
    "root": {"handlers": ["default"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        "core.access": {"handlers": ["access"], "propagate": False},
        # django-redis's ignored errors (DJANGO_REDIS_LOGGER): one line each, no traceback.
        "cache": {"filters": ["cache_errors"]},
    },
}

# django-structlog logs each task's enqueuing, start and outcome. Requests log their own
# line (core.middleware); the request id and actor travel to tasks in core.jobs' header.
DJANGO_STRUCTLOG_CELERY_ENABLED = True

# --- service settings -------------------------------------------------------------

PAGE_SIZE_MAX = 100
HEALTH_CHECK_BROKER = bool(CELERY_BROKER_URL)
# Security decisions (user, session, permissions) are cached at most this long.
AUTH_CACHE_TIMEOUT = env.int("AUTH_CACHE_TIMEOUT", default=300)
AUTH_CACHE_GENERATION_POLL_SECONDS = env.float("AUTH_CACHE_GENERATION_POLL_SECONDS", default=1.0)
# The site detail is served from the cache, checked against the site's version, at most
# this long after it was read from the database (sites/cache.py).
SITE_CACHE_TIMEOUT = env.int("SITE_CACHE_TIMEOUT", default=300)

# --- webhooks ---------------------------------------------------------------------

# Subscriber URLs must be https; plain http only with this (development, tests).
WEBHOOK_ALLOW_HTTP = env.bool("WEBHOOK_ALLOW_HTTP", default=False)
# Hosts, addresses or networks a subscriber URL may resolve to although not public
# (loopback, private, link-local): an ERP on the plant network, say.
WEBHOOK_ALLOWED_HOSTS: list[str] = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
# The whole exchange with a receiver, connect to last byte read.
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=5.0)
# Retries: doubling from the base (with jitter), at most the max delay apart, for this
# many hours after the event; then the delivery is failed.
WEBHOOK_RETRY_BASE_SECONDS = env.float("WEBHOOK_RETRY_BASE_SECONDS", default=5.0)
WEBHOOK_RETRY_MAX_DELAY_SECONDS = env.float("WEBHOOK_RETRY_MAX_DELAY_SECONDS", default=3600.0)
WEBHOOK_RETRY_HOURS = env.float("WEBHOOK_RETRY_HOURS", default=24.0)
# This many failed deliveries in a row disable a subscription (its creator is e-mailed).
WEBHOOK_DISABLE_AFTER = env.int("WEBHOOK_DISABLE_AFTER", default=5)
# A sender holds a subscription for the timeout plus this; a killed sender's hold lapses.
WEBHOOK_LEASE_MARGIN_SECONDS = env.float("WEBHOOK_LEASE_MARGIN_SECONDS", default=10.0)
# One task serves a subscription this long at most before handing over to the next.
WEBHOOK_DRAIN_SECONDS = env.float("WEBHOOK_DRAIN_SECONDS", default=30.0)
# After a secret rotation the old secret signs too, this long.
WEBHOOK_SECRET_GRACE_HOURS = env.float("WEBHOOK_SECRET_GRACE_HOURS", default=24.0)
# Each process re-reads which event types are subscribed to this often (seconds).
WEBHOOK_INTEREST_REFRESH_SECONDS = env.float("WEBHOOK_INTEREST_REFRESH_SECONDS", default=1.0)
# Finished deliveries and their events are kept this long.
WEBHOOK_KEEP_DAYS = env.int("WEBHOOK_KEEP_DAYS", default=30)

# --- admin ------------------------------------------------------------------------

# Staff sign in to /admin/ with a TOTP code too (production default: on); enrol a device
# with `manage.py enrol_totp <username or e-mail>`.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=False)
# CIDR list of client networks that may reach /admin/ (others get 404); empty: any.
ADMIN_ALLOWED_NETWORKS: list[str] = env.list("ADMIN_ALLOWED_NETWORKS", default=[])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Pharma MES")

# --- audit trail --------------------------------------------------------------------

# Key of the per-record MAC. Keep it stable and out of the database: with it a verifier
# tells rows the application wrote from rows written behind its back.
AUDIT_HMAC_KEY = env.str("AUDIT_HMAC_KEY", default=SECRET_KEY)
# Access records for read requests too (every GET under /api/).
AUDIT_LOG_READS = env.bool("AUDIT_LOG_READS", default=False)
# Access records are handed to Celery; this many at most in one task / insert.
AUDIT_ACCESS_BATCH_SIZE = env.int("AUDIT_ACCESS_BATCH_SIZE", default=200)
AUDIT_ACCESS_FLUSH_SECONDS = env.float("AUDIT_ACCESS_FLUSH_SECONDS", default=0.2)
# GMP records (EU GMP Annex 11 §9): their updates, deletes and status moves need a reason
# for the change, whichever door they come through (``core.reasons``). Model labels.
AUDIT_REASON_REQUIRED_FOR = env.list(
    "AUDIT_REASON_REQUIRED_FOR",
    default=[
        "batches.Batch",
        "batches.Product",
        "inspections.Inspection",
        "serializations.SerialNumber",
        "accounts.ElectronicSignature",
    ],
)
# Closed months older than this may be archived and detached (manage.py archive_audit).
AUDIT_ONLINE_MONTHS = env.int("AUDIT_ONLINE_MONTHS", default=24)
# An S3-compatible endpoint for s3:// archive locations (empty: AWS's own); credentials
# come the usual boto3 way (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION).
AUDIT_ARCHIVE_S3_ENDPOINT_URL = env.str("AUDIT_ARCHIVE_S3_ENDPOINT_URL", default="")
# Witnesses of the seal chain's head, outside the database (audit/witness.py): an
# append-only JSON-lines file on another volume than the database's, and/or an S3
# bucket (s3://bucket/prefix; object-lock retention of AUDIT_WITNESS_RETENTION_DAYS when
# the bucket has object lock). Both empty: no witness (development); production warns.
AUDIT_WITNESS_PATH = env.str("AUDIT_WITNESS_PATH", default="")
AUDIT_WITNESS_URL = env.str("AUDIT_WITNESS_URL", default="")
AUDIT_WITNESS_S3_ENDPOINT_URL = env.str("AUDIT_WITNESS_S3_ENDPOINT_URL", default="")
AUDIT_WITNESS_RETENTION_DAYS = env.int("AUDIT_WITNESS_RETENTION_DAYS", default=0)
AUDIT_WITNESS_REQUIRED = env.bool("AUDIT_WITNESS_REQUIRED", default=False)
# Records unsealed for longer, or a sealer that last ran longer ago, are a problem for
# verify (`seal_lag`): records deleted before they are sealed leave no trace, so this
# bounds the window in which that can happen unnoticed.
AUDIT_SEAL_MAX_LAG_SECONDS = env.int("AUDIT_SEAL_MAX_LAG_SECONDS", default=120)
# The sealer looks for unsealed records stamped at most this long before the newest
# sealed one (audit/sealing.py); older ones wait for `seal_audit --all`.
AUDIT_SEAL_LOOKBACK_SECONDS = env.int("AUDIT_SEAL_LOOKBACK_SECONDS", default=3600)

# --- serial numbers -------------------------------------------------------------------

# Generations up to this count run in the request (201); larger ones become a Celery
# job (202) of at most SERIAL_JOB_MAX serials.
SERIAL_SYNC_MAX = env.int("SERIAL_SYNC_MAX", default=10_000)
SERIAL_JOB_MAX = env.int("SERIAL_JOB_MAX", default=1_000_000)
# A job queued (or running) longer than this is published again (a lost message or a
# dead worker); a second delivery of a live job is harmless.
SERIAL_JOB_QUEUED_STALL_SECONDS = env.int("SERIAL_JOB_QUEUED_STALL_SECONDS", default=60)
SERIAL_JOB_RUNNING_STALL_SECONDS = env.int("SERIAL_JOB_RUNNING_STALL_SECONDS", default=900)
# Base of the GS1 Digital Link URI shown with every serial.
GS1_DIGITAL_LINK_BASE = env.str("GS1_DIGITAL_LINK_BASE", default="https://id.gs1.org")
# The GS1 company prefix that numbers SSCCs (cases and pallets) of sites without their
# own; the SSCC's extension digit. Blank: only sites with a prefix can make containers.
GS1_COMPANY_PREFIX = env.str("GS1_COMPANY_PREFIX", default="")
GS1_SSCC_EXTENSION_DIGIT = env.int("GS1_SSCC_EXTENSION_DIGIT", default=0)
# Children in one pack/unpack request; EPCs in one stored commissioning or status event.
CONTAINER_PACK_MAX = env.int("CONTAINER_PACK_MAX", default=10_000)
EPCIS_EPCS_PER_EVENT = env.int("EPCIS_EPCS_PER_EVENT", default=1_000)
# Events in one captured EPCIS document (its bytes are capped by MAX_REQUEST_BODY_BYTES).
EPCIS_CAPTURE_MAX_EVENTS = env.int("EPCIS_CAPTURE_MAX_EVENTS", default=1_000)

# --- scheduled jobs, broadcasts, metrics ----------------------------------------------

# Users with no sign-in (nor token refresh) for this many days are deactivated by the
# "accounts: deactivate dormant users" job.
DORMANT_ACCOUNT_DAYS = env.int("DORMANT_ACCOUNT_DAYS", default=90)
# Broadcast e-mails are sent this many per chunk (one SMTP connection, one progress save).
BROADCAST_CHUNK_SIZE = env.int("BROADCAST_CHUNK_SIZE", default=50)
# A broadcast still queued this long after it was created is published again.
BROADCAST_QUEUED_STALL_SECONDS = env.int("BROADCAST_QUEUED_STALL_SECONDS", default=60)
# Who may read /metrics: clients in these networks (CIDR), or a request carrying
# "Authorization: Bearer <METRICS_TOKEN>" (off when empty).
METRICS_ALLOWED_NETWORKS: list[str] = env.list(
    "METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"]
)
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
