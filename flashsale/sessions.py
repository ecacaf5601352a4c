"""Django's cache session store, saving an existing session in one Redis command.

The stock backend checks that the key exists (GET) before it overwrites it (SET); ``SET XX``
does both at once, which takes a round trip off every request that changes the session.
Deleting a session (log-out, a new log-in, a password change) also deletes the reserve tickets
copied from it (``reservations.tickets``), so they stop admitting reserve requests at once.

A session that cannot be read because Redis is down is not an empty one: the stock backend would
make the shopper anonymous and delete their cookie (logged out for good, though the session is
intact); the error goes up instead, and ``ServiceUnavailableMiddleware`` answers 503.
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.backends.cache import SessionStore as CacheSessionStore
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class SessionStore(CacheSessionStore):
    def load(self) -> dict:
        try:
            session_data = self._cache.get(self.cache_key)  # type: ignore[attr-defined]  # SessionBase internals the stubs omit
        except (RedisConnectionError, RedisTimeoutError):
            raise
        except Exception:
            # As the stock backend: a key the cache refuses is no session (Django #17810).
            session_data = None
        if session_data is not None:
            return session_data
        self._session_key = None
        return {}

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]  # SessionBase internals the stubs omit
        if must_create:
            stored = self._cache.add(self.cache_key, data, self.get_expiry_age())  # type: ignore[attr-defined]  # as above
            if not stored:
                raise CreateError  # create() retries with a fresh key
            return None
        # django-redis: xx=True writes only when the key exists, i.e. the session was not
        # flushed or expired meanwhile (that is the stock backend's UpdateError too).
        if not self._cache.set(self.cache_key, data, self.get_expiry_age(), xx=True):  # type: ignore[attr-defined]  # as above
            raise UpdateError
        return None

    def delete(self, session_key: str | None = None) -> None:
        key = session_key if session_key is not None else self.session_key
        super().delete(session_key)
        if key:
            # Imported here: the project's session store loads before the apps do.
            from reservations.tickets import forget_tickets

            forget_tickets(key)
