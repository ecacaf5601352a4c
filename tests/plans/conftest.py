"""Fixtures of the plans tests: staff users and a loaded session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group

from plans.loading import load_session_into_redis
from tests.factories import make_item, make_session


def _staff(django_user_model, username: str, **fields):
    # force_login needs no password; skipping the hash keeps these fixtures fast.
    user = django_user_model(username=username, is_staff=True, **fields)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def superuser(db, django_user_model):
    return _staff(django_user_model, "admin", is_superuser=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def operator(db, django_user_model):
    user = _staff(django_user_model, "operator")
    user.groups.add(Group.objects.get(name="operators"))
    return user


@pytest.fixture
def live_session(db, clock):
    """A session open since a minute ago with two items, loaded into Redis."""
    session = make_session(opens_in=timedelta(minutes=-1), name="Live now")
    first = make_item(session, quantity=10, display_order=0)
    second = make_item(session, quantity=5, display_order=1)
    load_session_into_redis(session)
    session.refresh_from_db()
    return session, first, second
