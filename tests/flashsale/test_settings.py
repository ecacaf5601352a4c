"""Settings read the environment; the embedded defaults start a real Redis and use SQLite."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings as s;"
    "from django_redis import get_redis_connection;"
    "print(json.dumps({'engine': s.DATABASES['default']['ENGINE'], 'name': str(s.DATABASES['default']['NAME']),"
    "'redis': s.REDIS_URL, 'embedded': s.EMBEDDED_REDIS, 'broker': s.CELERY_BROKER_URL,"
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
    assert got["embedded"] is False
    assert got["session"] == "flashsale.sessions"


@pytest.mark.slow
def test_embedded_defaults_sqlite_and_a_real_redis_server(tmp_path):
    port = 16390 + os.getpid() % 1000
    got = run_settings(
        {"FLASHSALE_VAR_DIR": str(tmp_path), "FLASHSALE_EMBEDDED_REDIS_PORT": str(port)},
        drop=("DATABASE_URL", "REDIS_URL", "FLASHSALE_EMBEDDED_REDIS_DB"),
    )
    try:
        assert got["engine"] == "django.db.backends.sqlite3"
        assert got["name"] == str(tmp_path / "flashsale.sqlite3")
        assert got["embedded"] is True
        assert got["redis"] == f"redis://127.0.0.1:{port}/0"
        assert got["ping"] is True
        assert got["server"].endswith("redis-server")
        # A second process finds the running server instead of starting another.
        again = run_settings(
            {"FLASHSALE_VAR_DIR": str(tmp_path), "FLASHSALE_EMBEDDED_REDIS_PORT": str(port)},
            drop=("DATABASE_URL", "REDIS_URL", "FLASHSALE_EMBEDDED_REDIS_DB"),
        )
        assert again["redis"] == got["redis"]
        assert (tmp_path / "redis.pid").read_text().strip().isdigit()
    finally:
        pid = (tmp_path / "redis.pid").read_text().strip() if (tmp_path / "redis.pid").exists() else ""
        if pid:
            os.kill(int(pid), 15)


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


@pytest.mark.slow
def test_embedded_default_refuses_a_port_taken_by_another_redis(tmp_path):
    """Another checkout's (or any other) Redis on the embedded port is never used by accident."""
    from flashsale.embedded_redis import ensure_embedded_redis

    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    port = 17390 + os.getpid() % 100
    ensure_embedded_redis(theirs, port=port)
    try:
        with pytest.raises(RuntimeError, match="not this checkout's embedded one"):
            ensure_embedded_redis(ours, port=port)
        assert ensure_embedded_redis(theirs, port=port) == f"redis://127.0.0.1:{port}/0"
    finally:
        os.kill(int((theirs / "redis.pid").read_text().strip()), 15)
