"""The gateway's settings are checked when the site starts: an unknown gateway name or Stripe without
its keys stops it with a clear message; ``check --deploy`` flags test keys and keys of mixed modes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LIVE_KEYS = {
    "FLASHSALE_GATEWAY": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_" + "s" * 24,
    "STRIPE_PUBLISHABLE_KEY": "pk_live_" + "p" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "w" * 32,
}
PRINT_ORIGINS = (
    "import django, json; django.setup(); from django.conf import settings as s;"
    "print(json.dumps([s.FLASHSALE_PAYMENT_SCRIPT_ORIGINS, s.FLASHSALE_PAYMENT_FRAME_ORIGINS,"
    " s.FLASHSALE_PAYMENT_CONNECT_ORIGINS]))"
)


def run(args: list[str], **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "FLASHSALE_GATEWAY"))}
    env.update(DJANGO_SETTINGS_MODULE="flashsale.settings", **env_overrides)
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def production(**extra: str) -> dict[str, str]:
    """A production environment with no sandbox secrets at all (a Stripe site needs none)."""
    return {
        "FLASHSALE_MODE": "production",
        "SECRET_KEY": "x" * 30 + "-production-like-secret-key-with-enough-entropy-1234567890",
        "ALLOWED_HOSTS": "shop.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://shop.example.com",
        "FLASHSALE_TOKEN_KEYS": "k1:" + "t" * 48,
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        # `make test` turns it on for the suite; production refuses it (system check flashsale.E001).
        "FLASHSALE_CAPTCHA_TEST_MODE": "0",
        **extra,
    }


def test_an_unknown_gateway_is_refused_at_start_up():
    out = run(["manage.py", "check"], FLASHSALE_GATEWAY="paypal")
    assert out.returncode != 0
    assert "FLASHSALE_GATEWAY='paypal' is not a known payment gateway; use one of: sandbox, stripe" in out.stderr


def test_stripe_without_its_keys_is_refused_at_start_up_in_every_mode():
    for env in ({"FLASHSALE_GATEWAY": "stripe"}, production(FLASHSALE_GATEWAY="stripe")):
        out = run(["manage.py", "check"], **env, STRIPE_PUBLISHABLE_KEY="pk_live_x")
        assert out.returncode != 0
        assert (
            "FLASHSALE_GATEWAY=stripe needs STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET in the environment" in out.stderr
        )


def test_production_on_stripe_with_live_keys_passes_check_deploy():
    out = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production(**LIVE_KEYS))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "System check identified no issues (0 silenced)." in out.stdout


def test_check_deploy_flags_test_keys_and_keys_of_two_modes():
    test_keys = {**LIVE_KEYS, "STRIPE_SECRET_KEY": "sk_test_" + "s" * 24}
    out = run(["manage.py", "check", "--deploy"], **production(**test_keys))
    assert out.returncode != 0  # the mixed modes are an error
    assert (
        "reconciliation.E001" in out.stderr and "test-mode key but STRIPE_PUBLISHABLE_KEY is a live-mode" in out.stderr
    )
    assert "reconciliation.W001" in out.stderr and "no real money will be taken" in out.stderr


def test_the_payment_providers_origins_follow_stripe_js_url():
    def origins(**env: str) -> list[list[str]]:
        out = run(["-c", PRINT_ORIGINS], **env)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    assert origins() == [[], [], []]
    assert origins(**LIVE_KEYS) == [
        ["https://js.stripe.com"],
        ["https://js.stripe.com", "https://hooks.stripe.com"],
        ["https://api.stripe.com"],
    ]
    local = "http://127.0.0.1:18960"
    assert origins(**LIVE_KEYS, STRIPE_JS_URL=f"{local}/js.stripe.com/v3/", STRIPE_API_BASE=local) == [
        [local],
        [local],
        [local],
    ]
