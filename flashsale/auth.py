"""Authentication that answers ``request.user`` from the Redis cache, not a SQL query.

Django's AuthenticationMiddleware loads the User row on every request that touches
``request.user``. During a sale that is one SQL query per shopper click, so the user is kept in
the cache (invalidated whenever the row is saved) and the session's auth hash is still checked,
so a password change still logs the other sessions out (``flashsale.accounts`` ends them at once).
"""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject
from django_redis import get_redis_connection


def user_cache_key(user_id) -> str:
    return f"auth:user:{user_id}"


def _load_user(user_id):
    key = user_cache_key(user_id)
    user = cache.get(key)
    if user is None:
        User = get_user_model()
        user = User._default_manager.filter(pk=user_id).first()
        if user is None:
            return None
        cache.set(key, user, settings.FLASHSALE_USER_CACHE_TIMEOUT)
    return user


def get_cached_user(request):
    """Mirror of django.contrib.auth.get_user with the User read through the cache."""
    session = request.session
    try:
        user_id = get_user_model()._meta.pk.to_python(session[auth.SESSION_KEY])
        backend_path = session[auth.BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    user = _load_user(user_id)
    if user is None or not user.is_active:
        return AnonymousUser()
    session_hash = session.get(auth.HASH_SESSION_KEY)
    if not session_hash or not constant_time_compare(session_hash, user.get_session_auth_hash()):
        request.session.flush()
        return AnonymousUser()
    return user


def session_user_id(request) -> int | None:
    """The logged-in user's id straight from the session: no cache or database read at all.

    Safe without re-checking the session's auth hash or ``is_active`` because a password change,
    a deactivation and a deletion end the user's sessions at once (``flashsale.accounts``), instead
    of leaving them to fail those checks.
    """
    value = request.session.get(auth.SESSION_KEY)
    return int(value) if value is not None else None


class CachedAuthenticationMiddleware(AuthenticationMiddleware):
    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_cached_user(request))


def sessions_key(user_id) -> str:
    return f"auth:sessions:{user_id}"


def _remember_session(sender, request, user, **kwargs):
    """Index the new session under its user, so a password change can end it."""
    if user is None or not getattr(request, "session", None) or not request.session.session_key:
        return
    client = get_redis_connection("default")
    key = sessions_key(user.pk)
    client.sadd(key, request.session.session_key)
    client.expire(key, settings.SESSION_COOKIE_AGE)


def end_sessions_of(user_id) -> list[str]:
    """Delete every session the user logged in with (their reserve tickets go with them); returns their keys.

    Code that ends a user's access calls ``flashsale.accounts.end_access``, which also sweeps the
    tickets again for a request that was in flight.
    """
    client = get_redis_connection("default")
    session_keys = [k.decode() if isinstance(k, bytes) else k for k in client.smembers(sessions_key(user_id))]
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    for session_key in session_keys:
        store.delete(session_key)
    client.delete(sessions_key(user_id))
    return session_keys


def _forget_user(sender, instance, **kwargs):
    cache.delete(user_cache_key(instance.pk))


def connect_signals() -> None:
    User = get_user_model()
    post_save.connect(_forget_user, sender=User, dispatch_uid="flashsale.auth.forget_user_saved")
    post_delete.connect(_forget_user, sender=User, dispatch_uid="flashsale.auth.forget_user_deleted")
    user_logged_in.connect(_remember_session, dispatch_uid="flashsale.auth.remember_session")
