"""Settings read the environment; production mode is strict and `check --deploy` is clean."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s;"
    "from django_redis import get_redis_connection;"
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    "'redis': s.REDIS_URL, 'broker': s.CELERY_BROKER_URL,"
    "'cache': s.CACHES['default']['LOCATION'], 'session': s.SESSION_ENGINE, 'debug': s.DEBUG,"
    "'ping': get_redis_connection('default').ping(),"
    "'server': get_redis_connection('default').info('server')['executable']}))"
)


def run_settings(env_overrides: dict, *, drop=()) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["DJANGO_SETTINGS_MODULE"] = "flashsale.settings"
    env.update(env_overrides)
    out = subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_urls_from_environment_are_used():
    got = run_settings(
        {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test", "REDIS_URL": "redis://127.0.0.1:6379/5"}
    )
    assert got["engine"] == "django.db.backends.postgresql"
    assert got["name"] == "test"
    assert got["redis"] == got["broker"] == got["cache"] == "redis://127.0.0.1:6379/5"
    assert got["session"] == "flashsale.sessions"


def test_production_mode_refuses_to_start_without_secrets():
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY"}}
    env.update({"FLASHSALE_MODE": "production", "DJANGO_SETTINGS_MODULE": "flashsale.settings"})
    out = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode != 0
    assert "SECRET_KEY must be set in the environment in production mode" in out.stderr


def production_env() -> dict:
    env = dict(os.environ)
    env.update(
        {
            "FLASHSALE_MODE": "production",
            "DJANGO_SETTINGS_MODULE": "flashsale.settings",
            "SECRET_KEY": "x" * 30 + "-production-like-secret-key-with-enough-entropy-1234567890",
            "ALLOWED_HOSTS": "shop.example.com",
            "CSRF_TRUSTED_ORIGINS": "https://shop.example.com",
            "FLASHSALE_TOKEN_KEYS": "k1:" + "t" * 48,
            "FLASHSALE_GATEWAY_WEBHOOK_SECRET": "w" * 48,
            "FLASHSALE_GATEWAY_API_KEY": "a" * 48,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
            # `make test` turns it on for the suite; production must run without it.
            "FLASHSALE_CAPTCHA_TEST_MODE": "0",
        }
    )
    return env


def test_check_deploy_is_clean_in_production_mode():
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues (0 silenced)." in out.stdout


def test_captcha_test_mode_is_a_system_check_error_in_production():
    env = {**production_env(), "FLASHSALE_CAPTCHA_TEST_MODE": "1"}
    out = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode != 0
    assert "flashsale.E001" in out.stderr and "FLASHSALE_CAPTCHA_TEST_MODE is on in production mode" in out.stderr


def test_the_wsgi_application_refuses_to_load_with_captcha_test_mode_in_production():
    """gunicorn runs no system checks: loading the application runs this one itself."""
    load = [sys.executable, "-c", "import flashsale.wsgi"]
    refused = subprocess.run(
        load, cwd=ROOT, env={**production_env(), "FLASHSALE_CAPTCHA_TEST_MODE": "1"}, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "flashsale.E001" in refused.stderr
    assert subprocess.run(load, cwd=ROOT, env=production_env(), capture_output=True, text=True).returncode == 0


def test_captcha_test_mode_is_allowed_outside_production():
    env = {k: v for k, v in os.environ.items() if k != "FLASHSALE_MODE"}
    out = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**env, "FLASHSALE_CAPTCHA_TEST_MODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
