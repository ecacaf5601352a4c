"""Celery's connection settings (``flashsale/settings.py`` calls ``celery_settings``).

A frozen Redis broker or result store must fail a publish in seconds rather than hold the caller:
the drainer and the payment webhook queue mails after committing, and without a socket timeout they
waited as long as the freeze lasted (found by ``make soak``). With Celery's publish retries (3) a
send gives up after about four timeouts and the caller logs the mail it could not queue
(``reservations/mails.py``). The timeout stays above the worker's BRPOP wait (1 s), or an idle
worker would read its own wait as a failure.
"""

from __future__ import annotations

import os
from typing import Any

from flashsale.env import env_int

REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def celery_settings(*, redis_url: str) -> dict[str, Any]:
    broker_url = os.environ.get("CELERY_BROKER_URL", redis_url)
    timeout = env_int("FLASHSALE_BROKER_SOCKET_TIMEOUT", 2)
    values: dict[str, Any] = {
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": os.environ.get("CELERY_RESULT_BACKEND", redis_url),
        "FLASHSALE_BROKER_SOCKET_TIMEOUT": timeout,
        # The result store when it is Redis (Celery's own default waits 120 s).
        "CELERY_REDIS_SOCKET_TIMEOUT": timeout,
        "CELERY_REDIS_SOCKET_CONNECT_TIMEOUT": timeout,
    }
    if broker_url.startswith(REDIS_SCHEMES):
        values["CELERY_BROKER_TRANSPORT_OPTIONS"] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    return values
