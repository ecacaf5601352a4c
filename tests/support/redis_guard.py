"""The tests empty the Redis database they are given: never one that holds data they did not write.

A test run marks the database it empties (``MARKER``). At the start of a run, a database that holds
keys but no marker belongs to someone else (a demo, a shop), and the run stops before touching it,
unless ``FLASHSALE_TESTS_MAY_FLUSH_REDIS=1`` says it may be emptied.
"""

from __future__ import annotations

import os

MARKER = "flashsale:tests:this-database-is-emptied-by-test-runs"
ALLOW_ENV = "FLASHSALE_TESTS_MAY_FLUSH_REDIS"


class ForeignData(Exception):
    """The database holds keys no test run wrote; the message says what to set."""


def check_may_flush(client, *, url: str) -> None:
    """Raise ``ForeignData`` if ``client``'s database holds keys a test run did not write (and no override)."""
    if os.environ.get(ALLOW_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
        return
    keys = client.dbsize()
    if keys == 0 or client.exists(MARKER):
        return
    raise ForeignData(
        f"the tests empty the Redis database they are given, and {url} holds {keys} key(s) no test run wrote. "
        "Point the tests at a database of their own (e.g. REDIS_URL=redis://127.0.0.1:6379/15, or leave "
        f"REDIS_URL unset: `make test` uses the embedded Redis's database 15), or set {ALLOW_ENV}=1 "
        "to let them empty this one."
    )


def flush(client) -> None:
    """Empty the database and mark it as a test run's."""
    client.flushdb()
    client.set(MARKER, "1")


def keys_but_marker(client) -> set[bytes]:
    """Every key of the database but the marker."""
    return {key for key in client.keys("*") if key != MARKER.encode()}
