"""The sandbox gateway's configuration, read from the environment."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


class ConfigError(Exception):
    """The environment does not describe a usable gateway."""


def _var_dir() -> Path:
    return Path(os.environ.get("FLASHSALE_VAR_DIR", BASE_DIR / "var"))


def _development_secret(name: str) -> str:
    """The secret the site keeps in var/ for development, so `make demo` needs no setup.

    Created here if the site has not created it yet (exclusive create: whichever process is
    first writes it, the other reads it).
    """
    var = _var_dir()
    var.mkdir(parents=True, exist_ok=True)
    path = var / f"{name}.secret"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


def _first(*names: str) -> str:
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return ""


def parse_keys(text: str) -> dict[str, str]:
    """``"kid:secret,kid2:secret2"`` (the site's FLASHSALE_TOKEN_KEYS format) to a dict."""
    keys = dict(pair.strip().split(":", 1) for pair in text.split(",") if ":" in pair)
    if not keys:
        raise ConfigError("token keys must look like 'kid:secret[,kid2:secret2]'")
    return keys


@dataclass(frozen=True)
class GatewayConfig:
    token_keys: dict[str, str]
    webhook_secret: str
    api_key: str
    site_url: str
    db_path: Path
    webhook_site_url: str = ""
    retry_base_seconds: float = 0.5
    retry_max_seconds: float = 60.0
    delivery_timeout_seconds: float = 5.0

    @property
    def webhook_url(self) -> str:
        return f"{self.webhook_site_url or self.site_url}/payments/webhook/"

    @property
    def return_url(self) -> str:
        return f"{self.site_url}/payments/return/"

    @classmethod
    def from_env(cls) -> GatewayConfig:
        keys_text = _first("SANDBOX_TOKEN_KEYS", "FLASHSALE_TOKEN_KEYS") or f"dev:{_development_secret('token_key')}"
        webhook_secret = _first("SANDBOX_WEBHOOK_SECRET", "FLASHSALE_GATEWAY_WEBHOOK_SECRET") or _development_secret(
            "flashsale_gateway_webhook_secret"
        )
        api_key = _first("SANDBOX_API_KEY", "FLASHSALE_GATEWAY_API_KEY") or _development_secret(
            "flashsale_gateway_api_key"
        )
        site_url = (_first("SANDBOX_SITE_URL", "FLASHSALE_SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
        db_path = Path(_first("SANDBOX_DB_PATH") or _var_dir() / "sandbox_gateway.sqlite3")
        return cls(
            token_keys=parse_keys(keys_text),
            webhook_secret=webhook_secret,
            api_key=api_key,
            site_url=site_url,
            db_path=db_path,
            # Where webhooks go when our servers reach the site by another address than shoppers do.
            webhook_site_url=(_first("SANDBOX_WEBHOOK_SITE_URL", "FLASHSALE_SITE_INTERNAL_URL") or site_url).rstrip(
                "/"
            ),
            retry_base_seconds=float(_first("SANDBOX_RETRY_BASE_SECONDS") or 0.5),
            retry_max_seconds=float(_first("SANDBOX_RETRY_MAX_SECONDS") or 60),
            delivery_timeout_seconds=float(_first("SANDBOX_DELIVERY_TIMEOUT_SECONDS") or 5),
        )
