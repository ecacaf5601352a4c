"""Reading settings from the environment: typed values with defaults, and secrets.

Used by ``flashsale/settings.py``; a secret never has a production default: in production mode a
missing one stops the site, in development a random one is kept in ``var/`` per checkout.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


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


def development_secret(var_dir: Path, name: str) -> str:
    """A per-checkout random secret kept in ``var_dir``, so development never ships a fixed key."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / f"{name}.secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def secret(name: str, *, production: bool, var_dir: Path) -> str:
    """The environment's value; in development a kept random one; in production a missing one is an error."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if production:
        raise ImproperlyConfigured(f"{name} must be set in the environment in production mode")
    return development_secret(var_dir, name.lower())
