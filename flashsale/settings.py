"""Settings for the flash-sale site, read from the environment.

Every value has a documented default that lets a newcomer run the whole site on one machine
(SQLite in ``var/`` and an embedded Redis). ``FLASHSALE_MODE=production`` turns the defaults
strict: secrets must come from the environment and ``check --deploy`` is clean.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from flashsale.celery_settings import celery_settings
from flashsale.env import development_secret, env_bool, env_int, env_list
from flashsale.env import secret as env_secret
from flashsale.log_config import LOG_FORMATS, logging_config
from flashsale.page_settings import page_settings
from flashsale.payment_settings import gateway_name, payment_origins, stripe_keys

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FLASHSALE_VAR_DIR", BASE_DIR / "var"))


MODE = os.environ.get("FLASHSALE_MODE", "development").strip().lower()
if MODE not in {"development", "production"}:
    raise ImproperlyConfigured("FLASHSALE_MODE must be 'development' or 'production'")
PRODUCTION = MODE == "production"


def secret(name: str) -> str:
    return env_secret(name, production=PRODUCTION, var_dir=VAR_DIR)


def _development_secret(name: str) -> str:
    return development_secret(VAR_DIR, name)


SECRET_KEY = secret("SECRET_KEY")
DEBUG = env_bool("DEBUG", not PRODUCTION)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "captcha",
    "django_celery_beat",
    "flashsale",
    "catalog",
    "plans",
    "reservations",
    "reconciliation",
]

MIDDLEWARE = [
    # First, so every request (the hot routes too) is timed and every log line of it carries its id.
    "flashsale.metrics.RequestMetricsMiddleware",
    "flashsale.request_context.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "flashsale.csp.CSPMiddleware",  # the Content-Security-Policy of flashsale/csp_policy.py
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Resolves request.user from the Redis cache instead of a SQL query per request.
    "flashsale.auth.CachedAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "flashsale.middleware.ServiceUnavailableMiddleware",
]

# The requests a sale's peak is made of (sale pages, reserve POSTs, stock polls) skip these
# middleware (flashsale/hot_routes.py): they are never static files, never need a slash appended,
# never show a message. Everything else in MIDDLEWARE (security, sessions, CSRF, auth) still runs.
FLASHSALE_HOT_ROUTE_PATTERN = os.environ.get(
    "FLASHSALE_HOT_ROUTE_PATTERN", r"^/sessions/\d+/(?:items/\d+/reserve/|reserve/|stock\.json|mine\.json)?$"
)
FLASHSALE_HOT_ROUTE_SKIPPED_MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "flashsale.urls"

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
                "flashsale.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "flashsale.wsgi.application"

# --- database -------------------------------------------------------------------------------
# DATABASE_URL (postgres://user@host:5432/name) in production and CI; SQLite in var/ otherwise.
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'flashsale.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the demo's web, worker and beat share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- redis ---------------------------------------------------------------------------------
# REDIS_URL points at a real Redis. Settings never start one: without REDIS_URL, `manage.py`,
# `make demo` and `make test` run an embedded redis-server for as long as they need it and set
# REDIS_URL for their processes (flashsale/embedded_redis.py); anything else must be given one.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if not REDIS_URL:
    raise ImproperlyConfigured(
        "REDIS_URL is not set. "
        + (
            "Production needs a real Redis: set REDIS_URL (e.g. redis://redis:6379/0)."
            if PRODUCTION
            else "`make demo` and `make test` start an embedded Redis and set it, and so does `python manage.py` "
            "for its own run; to start another process on it use "
            "`python -m flashsale.embedded_redis run -- COMMAND`, or set REDIS_URL (e.g. redis://127.0.0.1:6379/0)."
        )
    )

# The sale data (stock lists, holds, streams) may live apart from the cache and sessions:
# FLASHSALE_SALE_REDIS_URL (default REDIS_URL); "cluster" mode reads it with redis-py's cluster
# client, so the sale data can spread over a Redis Cluster's shards.
FLASHSALE_REDIS_MODE = os.environ.get("FLASHSALE_REDIS_MODE", "standalone")
FLASHSALE_SALE_REDIS_URL = os.environ.get("FLASHSALE_SALE_REDIS_URL", "").strip() or REDIS_URL

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "fs",
        "OPTIONS": {
            "CLIENT_CLASS": "django_redis.client.DefaultClient",
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 2,
        },
    }
}
SESSION_ENGINE = "flashsale.sessions"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)

# --- celery (broker, result store and their socket timeouts: flashsale/celery_settings.py) ---
vars().update(celery_settings(redis_url=REDIS_URL))
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# django-celery-beat's database scheduler; it also touches FLASHSALE_BEAT_HEARTBEAT_FILE (when
# set) on every tick, for a container healthcheck (`python -m flashsale.heartbeat FILE --max-age S`).
CELERY_BEAT_SCHEDULER = "flashsale.beat:HeartbeatScheduler"
FLASHSALE_BEAT_HEARTBEAT_FILE = os.environ.get("FLASHSALE_BEAT_HEARTBEAT_FILE", "").strip()
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Each app's periodic tasks (here first the waiting room's "it is your turn" mails); django-celery-beat
# copies them into the database, where superusers can see and edit them in admin.
CELERY_BEAT_SCHEDULE: dict = {"reservations-mail-turns": {"task": "reservations.tasks.mail_turns", "schedule": 10}}

# --- auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
FLASHSALE_USER_CACHE_TIMEOUT = env_int("FLASHSALE_USER_CACHE_TIMEOUT", 3600)

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- security -------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The probes and /metrics are read by load balancers and Prometheus over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Flash-sale provider API",
    "DESCRIPTION": "Push product records into the flash-sale catalog.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "catalog.schema.records_one_by_one"],
}

# --- rate limits, captcha -------------------------------------------------------------------
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "flashsale.views.ratelimited"
FLASHSALE_TRUSTED_PROXIES = env_list("FLASHSALE_TRUSTED_PROXIES", [])  # CIDRs per-IP limits see clients through
RATELIMIT_IP_META_KEY = "flashsale.client_ip.client_ip"
FLASHSALE_LOGIN_RATE_IP = os.environ.get("FLASHSALE_LOGIN_RATE_IP", "30/5m")
FLASHSALE_LOGIN_RATE_USERNAME = os.environ.get("FLASHSALE_LOGIN_RATE_USERNAME", "10/15m")
FLASHSALE_SIGNUP_RATE_IP = os.environ.get("FLASHSALE_SIGNUP_RATE_IP", "10/h")
CAPTCHA_TEST_MODE = env_bool("FLASHSALE_CAPTCHA_TEST_MODE", False)
FLASHSALE_PASSWORD_RESET_RATE = os.environ.get("FLASHSALE_PASSWORD_RESET_RATE", "5/h")  # per address and e-mail
vars().update(page_settings(production=PRODUCTION, base_dir=BASE_DIR))  # mail, CAPTCHA, time formats, /favicon.ico

# --- tokens and payment gateway -------------------------------------------------------------
# FLASHSALE_TOKEN_KEYS: "kid:secret,kid2:secret2" (verification keys); the signing key is
# FLASHSALE_TOKEN_SIGNING_KEY_ID (default: the first). Rotate by adding a key, switching the
# signing id, and removing the old key once its tokens have expired.
_token_keys = os.environ.get("FLASHSALE_TOKEN_KEYS", "").strip()
if not _token_keys:
    if PRODUCTION:
        raise ImproperlyConfigured("FLASHSALE_TOKEN_KEYS must be set in production mode")
    _token_keys = f"dev:{_development_secret('token_key')}"
FLASHSALE_TOKEN_KEYS = dict(pair.split(":", 1) for pair in _token_keys.split(",") if ":" in pair)
if not FLASHSALE_TOKEN_KEYS:
    raise ImproperlyConfigured("FLASHSALE_TOKEN_KEYS must look like 'kid:secret[,kid2:secret2]'")
FLASHSALE_TOKEN_SIGNING_KEY_ID = os.environ.get("FLASHSALE_TOKEN_SIGNING_KEY_ID", next(iter(FLASHSALE_TOKEN_KEYS)))
if FLASHSALE_TOKEN_SIGNING_KEY_ID not in FLASHSALE_TOKEN_KEYS:
    raise ImproperlyConfigured("FLASHSALE_TOKEN_SIGNING_KEY_ID must name one of FLASHSALE_TOKEN_KEYS")

# Which payment gateway takes the money: "sandbox" (our own stand-in process, the default) or
# "stripe". Anything else, and Stripe without its keys, stops the start-up (flashsale/payment_settings.py).
FLASHSALE_GATEWAY = gateway_name(os.environ.get("FLASHSALE_GATEWAY", "sandbox"))
FLASHSALE_GATEWAY_URL = os.environ.get("FLASHSALE_GATEWAY_URL", "http://127.0.0.1:8001").rstrip("/")
# The gateway's API as seen from our servers, when it differs from the shoppers' URL (containers).
FLASHSALE_GATEWAY_INTERNAL_URL = os.environ.get("FLASHSALE_GATEWAY_INTERNAL_URL", "").strip().rstrip("/")
# A production site on Stripe never talks to the sandbox: it needs none of the sandbox's secrets.
_needs_sandbox = FLASHSALE_GATEWAY == "sandbox" or not PRODUCTION
FLASHSALE_GATEWAY_WEBHOOK_SECRET = secret("FLASHSALE_GATEWAY_WEBHOOK_SECRET") if _needs_sandbox else ""
FLASHSALE_GATEWAY_API_KEY = secret("FLASHSALE_GATEWAY_API_KEY") if _needs_sandbox else ""
FLASHSALE_SITE_URL = os.environ.get("FLASHSALE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Stripe: the account's secret and publishable keys and the webhook endpoint's signing secret, from
# the environment only (they belong to one account), required with FLASHSALE_GATEWAY=stripe.
# STRIPE_API_BASE and STRIPE_JS_URL point elsewhere only for a Stripe-compatible test server.
STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY, STRIPE_WEBHOOK_SECRET = stripe_keys(os.environ, gateway=FLASHSALE_GATEWAY)
STRIPE_API_BASE = os.environ.get("STRIPE_API_BASE", "https://api.stripe.com").strip().rstrip("/")
STRIPE_JS_URL = os.environ.get("STRIPE_JS_URL", "https://js.stripe.com/v3/").strip()
# Retries of a failed Stripe call (the client keeps its idempotency key), and seconds per answer.
STRIPE_MAX_NETWORK_RETRIES = env_int("STRIPE_MAX_NETWORK_RETRIES", 2)
STRIPE_TIMEOUT_SECONDS = env_int("STRIPE_TIMEOUT_SECONDS", 20)
# Origins the payment provider's browser code needs, for a Content-Security-Policy to allow (its
# script, the frames it opens, the API it calls): flashsale/payment_settings.py. None on the sandbox.
_origins = payment_origins(FLASHSALE_GATEWAY, STRIPE_JS_URL)
FLASHSALE_PAYMENT_SCRIPT_ORIGINS = env_list("FLASHSALE_PAYMENT_SCRIPT_ORIGINS", _origins.script)
FLASHSALE_PAYMENT_FRAME_ORIGINS = env_list("FLASHSALE_PAYMENT_FRAME_ORIGINS", _origins.frame)
FLASHSALE_PAYMENT_CONNECT_ORIGINS = env_list("FLASHSALE_PAYMENT_CONNECT_ORIGINS", _origins.connect)

# --- logs, metrics, probes (docs/operations.md) ---------------------------------------------
# "plain" text lines (the development default) or "json": one JSON object per line with the
# request id (X-Request-ID or minted) on every line of a request and of the tasks it queues.
FLASHSALE_LOG_FORMAT = os.environ.get("FLASHSALE_LOG_FORMAT", "json" if PRODUCTION else "plain").strip().lower()
if FLASHSALE_LOG_FORMAT not in LOG_FORMATS:
    raise ImproperlyConfigured("FLASHSALE_LOG_FORMAT must be 'plain' or 'json'")
LOGGING = logging_config(log_format=FLASHSALE_LOG_FORMAT, level=os.environ.get("LOG_LEVEL", "INFO"))
# /metrics (Prometheus text format) asks for "Authorization: Bearer <token>" when this is set; without
# it only a development server shows its metrics (production answers 404).
FLASHSALE_METRICS_TOKEN = os.environ.get("FLASHSALE_METRICS_TOKEN", "").strip()
# Read once per scrape of /metrics, never on a shopper's request; each app appends its own.
FLASHSALE_METRICS_COLLECTORS = ["flashsale.collectors.ReadinessCollector"]
# Readiness (/readyz): seconds each check may take; beat's heartbeat period and the age past which
# it counts as stopped; the drain lag (oldest unpersisted reservation event) past which the site
# is not ready.
FLASHSALE_READINESS_TIMEOUT_SECONDS = float(os.environ.get("FLASHSALE_READINESS_TIMEOUT_SECONDS", "2"))
FLASHSALE_BEAT_HEARTBEAT_SECONDS = env_int("FLASHSALE_BEAT_HEARTBEAT_SECONDS", 30)
FLASHSALE_BEAT_HEARTBEAT_MAX_AGE_SECONDS = env_int(
    "FLASHSALE_BEAT_HEARTBEAT_MAX_AGE_SECONDS", 3 * FLASHSALE_BEAT_HEARTBEAT_SECONDS
)
FLASHSALE_READINESS_MAX_DRAIN_LAG_SECONDS = env_int("FLASHSALE_READINESS_MAX_DRAIN_LAG_SECONDS", 60)
CELERY_BEAT_SCHEDULE["flashsale-beat-heartbeat"] = {
    "task": "flashsale.tasks.beat_heartbeat",
    "schedule": float(FLASHSALE_BEAT_HEARTBEAT_SECONDS),
    # A heartbeat stuck in a backlog says nothing about now.
    "options": {"expire_seconds": FLASHSALE_BEAT_HEARTBEAT_SECONDS},
}
# Long commands (sync_products, load_session, ...) print a plain progress line this often when
# their output is not a terminal (a terminal gets a live bar).
FLASHSALE_PROGRESS_LINE_SECONDS = float(os.environ.get("FLASHSALE_PROGRESS_LINE_SECONDS", "10"))

# --- catalog --------------------------------------------------------------------------------
# Provider push API: the largest JSON array accepted in one request and the largest body read
# (bigger gets 413 before any parsing), and the pushes one provider may make (more get 429).
CATALOG_MAX_BATCH = env_int("CATALOG_MAX_BATCH", 1000)
CATALOG_MAX_BODY_BYTES = env_int("CATALOG_MAX_BODY_BYTES", 10 * 1024 * 1024)
CATALOG_PUSH_RATE = os.environ.get("CATALOG_PUSH_RATE", "120/m")
# Rows per SELECT / INSERT / UPDATE while upserting a delivery (bounds statements and memory).
CATALOG_INGEST_CHUNK = env_int("CATALOG_INGEST_CHUNK", 2000)
# Pull feeds: seconds to connect and between bytes, retries on connection errors, timeouts and
# 5xx (exponential backoff from CATALOG_FEED_RETRY_BACKOFF seconds), and the largest feed read.
CATALOG_FEED_CONNECT_TIMEOUT = float(os.environ.get("CATALOG_FEED_CONNECT_TIMEOUT", "5"))
CATALOG_FEED_READ_TIMEOUT = float(os.environ.get("CATALOG_FEED_READ_TIMEOUT", "30"))
CATALOG_FEED_RETRIES = env_int("CATALOG_FEED_RETRIES", 2)
CATALOG_FEED_RETRY_BACKOFF = float(os.environ.get("CATALOG_FEED_RETRY_BACKOFF", "1"))
CATALOG_FEED_MAX_BYTES = env_int("CATALOG_FEED_MAX_BYTES", 200 * 1024 * 1024)
# Serve the bundled demo feeds at /demo/feeds/<file> so the demo's pull providers have a feed.
CATALOG_DEMO_FEEDS = env_bool("CATALOG_DEMO_FEEDS", not PRODUCTION)
# How many recent sync runs the provider page in admin shows.
CATALOG_ADMIN_RECENT_RUNS = env_int("CATALOG_ADMIN_RECENT_RUNS", 10)
# `seed_demo` calls each of these in order; other apps append their own demo seeders.
FLASHSALE_DEMO_SEEDERS = ["catalog.demo.seed.seed_demo_catalog"]
# Swagger UI / Redoc assets from drf-spectacular-sidecar, so /api/docs/ works without a CDN.
INSTALLED_APPS.append("drf_spectacular_sidecar")
SPECTACULAR_SETTINGS.update(
    {"SWAGGER_UI_DIST": "SIDECAR", "SWAGGER_UI_FAVICON_HREF": "SIDECAR", "REDOC_DIST": "SIDECAR"}
)
# Beat checks every minute which pull providers are due (their sync_interval has elapsed).
CELERY_BEAT_SCHEDULE["catalog-sync-due-providers"] = {"task": "catalog.tasks.sync_due_providers", "schedule": 60.0}
# Sync runs (and their rejected records) older than this many days are deleted daily; each
# provider keeps its latest run. 0 keeps everything.
CATALOG_SYNC_RUN_RETENTION_DAYS = env_int("CATALOG_SYNC_RUN_RETENTION_DAYS", 30)
if CATALOG_SYNC_RUN_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("CATALOG_SYNC_RUN_RETENTION_DAYS must be 0 (keep everything) or more")
CELERY_BEAT_SCHEDULE["catalog-prune-sync-runs"] = {"task": "catalog.tasks.prune_sync_runs", "schedule": 24 * 3600.0}


# --- plans ----------------------------------------------------------------------------------
FLASHSALE_DEMO_SEEDERS.append("plans.demo.seed_demo_plans")
# Scheduled sessions are copied into Redis this many minutes before they open.
FLASHSALE_LOAD_LEAD_MINUTES = env_int("FLASHSALE_LOAD_LEAD_MINUTES", 10)
# An ended session's Redis keys expire this many hours after its final counts are saved.
FLASHSALE_REDIS_RETENTION_HOURS = env_int("FLASHSALE_REDIS_RETENTION_HOURS", 24)
# Largest number of units one stock adjustment may add or withdraw (keeps the script short).
FLASHSALE_MAX_ADJUSTMENT = env_int("FLASHSALE_MAX_ADJUSTMENT", 100_000)
# How often the admin live page polls its JSON endpoint, in milliseconds.
FLASHSALE_LIVE_POLL_MS = env_int("FLASHSALE_LIVE_POLL_MS", 3000)
# Loads sessions ahead of time, opens and ends them, saves final counts.
CELERY_BEAT_SCHEDULE["plans-advance-sessions"] = {
    "task": "plans.tasks.advance_sessions",
    "schedule": env_int("FLASHSALE_ADVANCE_INTERVAL_SECONDS", 30),
}

# --- reservations ---------------------------------------------------------------------------
# The home page lists scheduled (not yet loaded) sessions from a cached query: one SQL per period.
FLASHSALE_HOME_SCHEDULE_CACHE_SECONDS = env_int("FLASHSALE_HOME_SCHEDULE_CACHE_SECONDS", 30)
# Waiting room (reservations/waiting_room.py): shoppers may queue this many minutes before a
# session opens; admissions per second when operators have set none (0 = everyone at once); the
# token bucket saves at most this many seconds of admissions; a waiting shopper who has not polled
# for this long is dropped (background tabs poll slowly, so keep it well above a minute); the page
# polls every this many seconds; an admission pass lets its holder reserve for this long.
FLASHSALE_WAITING_ROOM_ENABLED = env_bool("FLASHSALE_WAITING_ROOM_ENABLED", True)
FLASHSALE_WAITING_ROOM_LEAD_MINUTES = env_int("FLASHSALE_WAITING_ROOM_LEAD_MINUTES", 15)
FLASHSALE_WAITING_ROOM_DEFAULT_RATE = float(os.environ.get("FLASHSALE_WAITING_ROOM_DEFAULT_RATE", "0"))
FLASHSALE_WAITING_ROOM_BURST_SECONDS = env_int("FLASHSALE_WAITING_ROOM_BURST_SECONDS", 5)
FLASHSALE_WAITING_ROOM_IDLE_SECONDS = env_int("FLASHSALE_WAITING_ROOM_IDLE_SECONDS", 180)
FLASHSALE_WAITING_ROOM_POLL_SECONDS = env_int("FLASHSALE_WAITING_ROOM_POLL_SECONDS", 3)
FLASHSALE_ADMISSION_PASS_SECONDS = env_int("FLASHSALE_ADMISSION_PASS_SECONDS", 300)
# Stock audit (reservations/audit.py): every live session each minute; the latest report is kept
# in Redis this long.
FLASHSALE_AUDIT_REPORT_TTL_SECONDS = env_int("FLASHSALE_AUDIT_REPORT_TTL_SECONDS", 7 * 24 * 3600)
CELERY_BEAT_SCHEDULE["reservations-audit-live-sessions"] = {
    "task": "reservations.audit_live_sessions",
    "schedule": 60.0,
}
# The crowd's path: each web process reads a session's stock (every item's remaining units) at most
# once per FLASHSALE_STOCK_SNAPSHOT_SECONDS and answers the shared stock poll and the sale page's
# cards from that copy; an item it saw sold out is refused from memory for
# FLASHSALE_SOLD_OUT_MEMO_SECONDS (0 = always ask Redis). Both bound how stale a number may be.
FLASHSALE_STOCK_SNAPSHOT_SECONDS = float(os.environ.get("FLASHSALE_STOCK_SNAPSHOT_SECONDS", "1"))
FLASHSALE_SOLD_OUT_MEMO_SECONDS = float(os.environ.get("FLASHSALE_SOLD_OUT_MEMO_SECONDS", "1"))
# How long a reservation holds its units before the expiry job gives them back (seconds).
FLASHSALE_RESERVATION_TTL_SECONDS = env_int("FLASHSALE_RESERVATION_TTL_SECONDS", 600)
# Where a shopper is assumed to be until they share a location: "lat,lon,name".
FLASHSALE_DEFAULT_LOCATION = os.environ.get("FLASHSALE_DEFAULT_LOCATION", "48.8566,2.3522,Paris")
# django-ratelimit rates ("count/period", period s|m|h|d) for reserve and CAPTCHA, per user and per IP.
FLASHSALE_RESERVE_RATE_USER = os.environ.get("FLASHSALE_RESERVE_RATE_USER", "10/m")
FLASHSALE_RESERVE_RATE_IP = os.environ.get("FLASHSALE_RESERVE_RATE_IP", "120/m")
FLASHSALE_CAPTCHA_RATE_USER = os.environ.get("FLASHSALE_CAPTCHA_RATE_USER", "10/m")
FLASHSALE_CAPTCHA_RATE_IP = os.environ.get("FLASHSALE_CAPTCHA_RATE_IP", "120/m")
# How long a solved CAPTCHA lets a shopper reserve in one session (seconds).
FLASHSALE_CAPTCHA_PASS_SECONDS = env_int("FLASHSALE_CAPTCHA_PASS_SECONDS", 1800)
# A reserve ticket (reservations/tickets.py: the session's reserve fields beside the sale, so a
# reserve request is one Redis round trip) lives this long after the last sale-page visit. Log-out
# and password changes delete it at once; only a session that expires on its own may leave its
# ticket usable for up to this long.
FLASHSALE_RESERVE_TICKET_SECONDS = env_int("FLASHSALE_RESERVE_TICKET_SECONDS", 1800)
# Stream events persisted per database transaction by the drainer (the Procfile's and compose's
# `drain_transactions --follow`, and the beat task when it is on).
FLASHSALE_DRAIN_BATCH_SIZE = env_int("FLASHSALE_DRAIN_BATCH_SIZE", 500)
# One drainer at a time persists a session: its lock lives this many seconds and is renewed while
# it works, so a killed drainer's session is free again within this time.
FLASHSALE_DRAIN_LOCK_SECONDS = env_int("FLASHSALE_DRAIN_LOCK_SECONDS", 3)
# A dead drainer leaves its events pending; the next drainer claims them once idle this long (ms).
# At most the lock's TTL: past it their owner can no longer hold the lock.
FLASHSALE_DRAIN_CLAIM_IDLE_MS = env_int("FLASHSALE_DRAIN_CLAIM_IDLE_MS", FLASHSALE_DRAIN_LOCK_SECONDS * 1000)
if FLASHSALE_DRAIN_LOCK_SECONDS < 1:
    raise ImproperlyConfigured("FLASHSALE_DRAIN_LOCK_SECONDS must be 1 or more")
if not 0 <= FLASHSALE_DRAIN_CLAIM_IDLE_MS <= FLASHSALE_DRAIN_LOCK_SECONDS * 1000:
    raise ImproperlyConfigured(
        "FLASHSALE_DRAIN_CLAIM_IDLE_MS must be between 0 and FLASHSALE_DRAIN_LOCK_SECONDS * 1000"
    )
FLASHSALE_METRICS_COLLECTORS.append("reservations.metrics.SaleStockCollector")
FLASHSALE_METRICS_COLLECTORS.append("reservations.metrics.SaleOperationsCollector")
CELERY_BEAT_SCHEDULE["reservations-expire-holds"] = {
    "task": "reservations.tasks.expire_holds",
    "schedule": float(env_int("FLASHSALE_EXPIRE_EVERY_SECONDS", 15)),
}
# The drainer is its own process (`manage.py drain_transactions --follow`); set this to a period
# in seconds to drain from beat as well or instead (0: off, the default: one drainer is enough).
FLASHSALE_DRAIN_EVERY_SECONDS = env_int("FLASHSALE_DRAIN_EVERY_SECONDS", 0)
if FLASHSALE_DRAIN_EVERY_SECONDS > 0:
    CELERY_BEAT_SCHEDULE["reservations-drain-transactions"] = {
        "task": "reservations.tasks.drain_transactions",
        "schedule": float(FLASHSALE_DRAIN_EVERY_SECONDS),
    }

# --- reconciliation -------------------------------------------------------------------------
# Payment webhook: how far the gateway's signed timestamp may be from our wall clock, and how long
# a delivered event id is remembered in Redis so a replay of it is refused.
FLASHSALE_WEBHOOK_TOLERANCE_SECONDS = env_int("FLASHSALE_WEBHOOK_TOLERANCE_SECONDS", 300)
FLASHSALE_WEBHOOK_EVENT_TTL_SECONDS = env_int("FLASHSALE_WEBHOOK_EVENT_TTL_SECONDS", 7 * 24 * 3600)
# Seconds to wait on the gateway API (connect and read) before a call fails.
FLASHSALE_GATEWAY_TIMEOUT_SECONDS = env_int("FLASHSALE_GATEWAY_TIMEOUT_SECONDS", 10)
# Retries of a gateway API call that got no answer or a transient one (429, 5xx), with exponential
# backoff from this many seconds (urllib3's Retry; it honours Retry-After).
FLASHSALE_GATEWAY_RETRIES = env_int("FLASHSALE_GATEWAY_RETRIES", 3)
FLASHSALE_GATEWAY_RETRY_BACKOFF_SECONDS = float(os.environ.get("FLASHSALE_GATEWAY_RETRY_BACKOFF_SECONDS", "0.5"))
# A refund that still fails is recorded and tried again by beat, this many times in all, waiting
# this many seconds after the first failure (doubling each time, at most an hour); then it is
# marked for an operator (admin: Compensations, "Needs an operator").
FLASHSALE_REFUND_MAX_ATTEMPTS = env_int("FLASHSALE_REFUND_MAX_ATTEMPTS", 6)
FLASHSALE_REFUND_RETRY_SECONDS = env_int("FLASHSALE_REFUND_RETRY_SECONDS", 60)
CELERY_BEAT_SCHEDULE["reconciliation-retry-refunds"] = {
    "task": "reconciliation.tasks.retry_refunds",
    "schedule": float(env_int("FLASHSALE_REFUND_RETRY_EVERY_SECONDS", 60)),
}
# Daily reconciliation of the previous UTC day at "HH:MM" (UTC); rows handled per batch.
FLASHSALE_RECONCILE_AT = os.environ.get("FLASHSALE_RECONCILE_AT", "02:30")
FLASHSALE_RECONCILE_BATCH_SIZE = env_int("FLASHSALE_RECONCILE_BATCH_SIZE", 2000)
# Discrepancy kinds compensated without an operator (comma separated; empty = none).
FLASHSALE_AUTO_COMPENSATE = env_list("FLASHSALE_AUTO_COMPENSATE", ["paid_after_expiry"])
# How long the shopper's return page can read the payment outcome the webhook recorded in Redis.
FLASHSALE_PAYMENT_RESULT_TTL_SECONDS = env_int("FLASHSALE_PAYMENT_RESULT_TTL_SECONDS", 24 * 3600)
FLASHSALE_METRICS_COLLECTORS.append("reconciliation.metrics.ReconciliationCollector")
try:
    _reconcile_hour, _reconcile_minute = (int(part) for part in FLASHSALE_RECONCILE_AT.split(":"))
except ValueError as exc:
    raise ImproperlyConfigured("FLASHSALE_RECONCILE_AT must look like 'HH:MM'") from exc
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE["reconciliation-previous-day"] = {
    "task": "reconciliation.tasks.reconcile_previous_day",
    "schedule": crontab(hour=_reconcile_hour, minute=_reconcile_minute),
}

# --- bench ----------------------------------------------------------------------------------
