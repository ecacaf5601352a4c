"""How many SQL queries each request path made in a site served by gunicorn.

Serve ``APPLICATION`` (the site's WSGI application wrapped in the benchmark's counter, so the
answers the hot routes give before the middleware are counted too) with the site's own settings;
each request that runs SQL adds its count under its path in a Redis hash, and one that runs none
writes nothing.
"""

from __future__ import annotations

from bench.sql_counting import SQL_COUNTS_KEY, SQL_SAMPLES_KEY

APPLICATION = "bench.wsgi:application"
SETTINGS_MODULE = "flashsale.settings"


def sql_queries_by_path(redis) -> dict[str, int]:
    return {_text(path): int(count) for path, count in redis.hgetall(SQL_COUNTS_KEY).items()}


def sql_samples(redis) -> list[str]:
    """The first statement of the latest requests that ran SQL, for a failure message."""
    return [_text(sample) for sample in redis.lrange(SQL_SAMPLES_KEY, 0, -1)]


def forget_sql_counts(redis) -> None:
    redis.delete(SQL_COUNTS_KEY, SQL_SAMPLES_KEY)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
