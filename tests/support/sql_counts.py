"""How many SQL queries each request path made in a site served by gunicorn.

Start the site with ``DJANGO_SETTINGS_MODULE=SETTINGS_MODULE`` (the site's settings plus the
benchmark's counter, outermost, on the hot routes' shorter list too); each request that runs SQL
adds its count under its path in a Redis hash, and one that runs none writes nothing.
"""

from __future__ import annotations

from bench.middleware import SQL_COUNTS_KEY, SQL_SAMPLES_KEY

SETTINGS_MODULE = "tests.support.sql_counting_settings"


def sql_queries_by_path(redis) -> dict[str, int]:
    return {_text(path): int(count) for path, count in redis.hgetall(SQL_COUNTS_KEY).items()}


def sql_samples(redis) -> list[str]:
    """The first statement of the latest requests that ran SQL, for a failure message."""
    return [_text(sample) for sample in redis.lrange(SQL_SAMPLES_KEY, 0, -1)]


def forget_sql_counts(redis) -> None:
    redis.delete(SQL_COUNTS_KEY, SQL_SAMPLES_KEY)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
