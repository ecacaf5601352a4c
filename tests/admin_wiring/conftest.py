"""Fixtures of the admin wiring tests: staff clients and a live session loaded into Redis."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.urls import reverse

from plans import keys
from plans.loading import load_session_into_redis
from tests.factories import make_item, make_session

CHANGELIST = "admin:plans_salesession_changelist"


def _staff(django_user_model, username: str, **fields):
    # force_login needs no password; skipping the hash keeps these fixtures fast.
    user = django_user_model(username=username, is_staff=True, **fields)
    user.set_unusable_password()
    user.save()
    return user


@pytest.fixture
def operator(db, django_user_model):
    user = _staff(django_user_model, "operator")
    user.groups.add(Group.objects.get(name="operators"))
    return user


@pytest.fixture
def operator_client(client, operator):
    client.force_login(operator)
    return client


@pytest.fixture
def live_session(db, clock):
    """A session open since a minute ago with two items (10 and 5 units), loaded into Redis."""
    session = make_session(opens_in=timedelta(minutes=-1), name="Live now")
    session.test_items = [make_item(session, quantity=10, display_order=0), make_item(session, quantity=5)]
    load_session_into_redis(session, now=clock.now())
    session.refresh_from_db()
    return session


@pytest.fixture
def inject_extra_unit(redis_conn):
    """Duplicate the head unit of an item's stock list: one more unit could sell than was planned."""

    def inject(session, item) -> None:
        stock = keys.stock(session.pk, item.pk)
        redis_conn.lpush(stock, redis_conn.lindex(stock, 0))

    return inject


def run_action(client, action: str, sessions, *, confirm: bool):
    data = {"action": action, ACTION_CHECKBOX_NAME: [session.pk for session in sessions]}
    if confirm:
        data["post"] = "yes"
    return client.post(reverse(CHANGELIST), data, follow=confirm)
