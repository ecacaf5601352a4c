"""Liveness of the two stores every request depends on."""

from __future__ import annotations

from django.db import connection
from django_redis import get_redis_connection


def check_database() -> str | None:
    """None when the database answers, else a one-line reason."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "down" for a health probe
        return f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    return None


def check_redis() -> str | None:
    try:
        get_redis_connection("default").ping()
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip().splitlines()[0]
    return None
