"""Counts the SQL queries each request makes, per request path, into the bench's Redis database.

It wraps the site's whole WSGI application (``bench.wsgi``), so every answer is counted: the
middleware stack's, and those the hot routes give before it (``flashsale.hot_routes``: replayed
answers, Reserve clicks decided before the stack). A request that makes no query sends nothing to
Redis, so the hot path's Redis command count and throughput are not changed by the counting itself.
"""

from __future__ import annotations

from django.db import connections
from django_redis import get_redis_connection

SQL_COUNTS_KEY = "bench:sql:queries"
SQL_SAMPLES_KEY = "bench:sql:samples"
SAMPLES_KEPT = 20


class SqlCountingApplication:
    """``application`` (a WSGI application), its SQL queries counted under each request's path."""

    def __init__(self, application):
        self.application = application

    def __call__(self, environ, start_response):
        statements: list[str] = []

        def record(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        # The site's answers are built by the time the application returns (no streamed views).
        with connections["default"].execute_wrapper(record):
            answer = self.application(environ, start_response)
        if statements:
            # Keyed by path: the bench knows which paths are the hot ones.
            path = environ.get("PATH_INFO", "")
            redis = get_redis_connection("default")
            pipe = redis.pipeline(transaction=False)
            pipe.hincrby(SQL_COUNTS_KEY, path, len(statements))
            pipe.lpush(SQL_SAMPLES_KEY, f"{path}: {statements[0][:300]}")
            pipe.ltrim(SQL_SAMPLES_KEY, 0, SAMPLES_KEPT - 1)
            pipe.execute()
        return answer
