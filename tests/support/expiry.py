"""When a Redis key expires, read the same way on every Redis the tests run against."""

from __future__ import annotations


def expire_at(conn, key) -> int | None:
    """The Unix time at which ``key`` expires (EXPIRETIME needs Redis 7; the embedded default may be 6.2)."""
    pipe = conn.pipeline(transaction=True)
    pipe.time()
    pipe.pttl(key)
    (seconds, micros), pttl = pipe.execute()
    if pttl < 0:
        return pttl  # -1: no deadline, -2: no such key (as EXPIRETIME answers)
    return round((seconds * 1000 + micros / 1000 + pttl) / 1000)
