"""What several test suites share: polling with a deadline, loopback ports, the live server, and the
real processes (gunicorn, redis-server, the sandbox gateway) the end-to-end suites start."""


def expire_at(conn, key) -> int | None:
    """The Unix time at which ``key`` expires (EXPIRETIME needs Redis 7; the embedded default may be 6.2)."""
    pipe = conn.pipeline(transaction=True)
    pipe.time()
    pipe.pttl(key)
    (seconds, micros), pttl = pipe.execute()
    if pttl < 0:
        return pttl  # -1: no deadline, -2: no such key (as EXPIRETIME answers)
    return round((seconds * 1000 + micros / 1000 + pttl) / 1000)
