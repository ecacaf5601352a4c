"""Counts the SQL queries each request makes, per request path, into the bench's Redis database.

A request that makes no query sends nothing to Redis, so the hot path's Redis command count and
throughput are not changed by the counting itself.
"""

from __future__ import annotations

from django.db import connections
from django_redis import get_redis_connection

SQL_COUNTS_KEY = "bench:sql:queries"
SQL_SAMPLES_KEY = "bench:sql:samples"
SAMPLES_KEPT = 20


class SqlQueryCounter:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        statements: list[str] = []

        def record(execute, sql, params, many, context):
            statements.append(sql)
            return execute(sql, params, many, context)

        with connections["default"].execute_wrapper(record):
            response = self.get_response(request)
        if statements:
            # Keyed by path: the bench knows which paths are the hot ones.
            redis = get_redis_connection("default")
            pipe = redis.pipeline(transaction=False)
            pipe.hincrby(SQL_COUNTS_KEY, request.path, len(statements))
            pipe.lpush(SQL_SAMPLES_KEY, f"{request.path}: {statements[0][:300]}")
            pipe.ltrim(SQL_SAMPLES_KEY, 0, SAMPLES_KEPT - 1)
            pipe.execute()
        return response
