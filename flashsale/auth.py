"""Authentication that answers ``request.user`` from the Redis cache, not a SQL query.

Django's AuthenticationMiddleware loads the User row on every request that touches
``request.user``. During a sale that is one SQL query per shopper click, so the user is kept in
the cache (invalidated whenever the row is saved) and the session's auth hash is still checked,
so a password change still logs the other sessions out.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject


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
    """The logged-in user's id straight from the session: no cache or database read at all."""
    value = request.session.get(auth.SESSION_KEY)
    return int(value) if value is not None else None


class CachedAuthenticationMiddleware(AuthenticationMiddleware):
    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: get_cached_user(request))


def _forget_user(sender, instance, **kwargs):
    cache.delete(user_cache_key(instance.pk))


def connect_signals() -> None:
    User = get_user_model()
    post_save.connect(_forget_user, sender=User, dispatch_uid="flashsale.auth.forget_user_saved")
    post_delete.connect(_forget_user, sender=User, dispatch_uid="flashsale.auth.forget_user_deleted")
