"""Settings for the flash-sale site, read from the environment.

Every value has a documented default that lets a newcomer run the whole site on one machine
(SQLite in ``var/`` and an embedded Redis). ``FLASHSALE_MODE=production`` turns the defaults
strict: secrets must come from the environment and ``check --deploy`` is clean.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FLASHSALE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


MODE = os.environ.get("FLASHSALE_MODE", "development").strip().lower()
if MODE not in {"development", "production"}:
    raise ImproperlyConfigured("FLASHSALE_MODE must be 'development' or 'production'")
PRODUCTION = MODE == "production"


def _development_secret(name: str) -> str:
    """A per-checkout random secret kept in var/, so development never ships a fixed key."""
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    path = VAR_DIR / f"{name}.secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def secret(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} must be set in the environment in production mode")
    return _development_secret(name.lower())


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
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Resolves request.user from the Redis cache instead of a SQL query per request.
    "flashsale.auth.CachedAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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

# --- redis ----------------------------------------------------------------------------------
# REDIS_URL points at a real Redis. Unset, an embedded redis-server is started on loopback
# (see flashsale/embedded_redis.py); it is a real server, never a Python fake.
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
EMBEDDED_REDIS = not REDIS_URL
if EMBEDDED_REDIS:
    if PRODUCTION:
        raise ImproperlyConfigured("REDIS_URL must be set in production mode")
    from flashsale.embedded_redis import ensure_embedded_redis

    # `make test` uses another database number so a test run never wipes a running demo.
    REDIS_URL = ensure_embedded_redis(
        VAR_DIR,
        port=env_int("FLASHSALE_EMBEDDED_REDIS_PORT", 6390),
        db=env_int("FLASHSALE_EMBEDDED_REDIS_DB", 0),
    )

# "cluster" selects redis-py's cluster client for the sale data (Redis Cluster deployments).
FLASHSALE_REDIS_MODE = os.environ.get("FLASHSALE_REDIS_MODE", "standalone")

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
SESSION_ENGINE = "django.contrib.sessions.backends.cache"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600)

# --- celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Each app's periodic tasks; django-celery-beat copies them into the database so operators
# can see and edit them in admin.
CELERY_BEAT_SCHEDULE: dict = {}

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
# /healthz is probed by load balancers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
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
}

# --- rate limits, captcha -------------------------------------------------------------------
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "flashsale.views.ratelimited"
CAPTCHA_TEST_MODE = env_bool("FLASHSALE_CAPTCHA_TEST_MODE", False)
CAPTCHA_TIMEOUT = env_int("CAPTCHA_TIMEOUT", 5)  # minutes

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

FLASHSALE_GATEWAY = os.environ.get("FLASHSALE_GATEWAY", "sandbox")
FLASHSALE_GATEWAY_URL = os.environ.get("FLASHSALE_GATEWAY_URL", "http://127.0.0.1:8001").rstrip("/")
FLASHSALE_GATEWAY_WEBHOOK_SECRET = secret("FLASHSALE_GATEWAY_WEBHOOK_SECRET")
FLASHSALE_GATEWAY_API_KEY = secret("FLASHSALE_GATEWAY_API_KEY")
FLASHSALE_SITE_URL = os.environ.get("FLASHSALE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- catalog --------------------------------------------------------------------------------

# --- plans ----------------------------------------------------------------------------------

# --- reservations ---------------------------------------------------------------------------

# --- reconciliation -------------------------------------------------------------------------

# --- bench ----------------------------------------------------------------------------------
