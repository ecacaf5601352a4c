"""Admin actions ask for confirmation, then schedule, load or cancel, with a message for each outcome."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from flashsale.store import keys
from plans.models import SaleSession
from tests.factories import make_item, make_session
from tests.support.expiry import expire_at

pytestmark = pytest.mark.django_db
State = SaleSession.State
URL = "admin:plans_salesession_changelist"


def _act(client, action, sessions, *, confirm: bool):
    data = {"action": action, ACTION_CHECKBOX_NAME: [s.pk for s in sessions]}
    if confirm:
        data["post"] = "yes"
    return client.post(reverse(URL), data, follow=confirm)


def test_schedule_asks_first_then_schedules(admin_client, clock):
    ready = make_session(opens_in=timedelta(hours=1), name="Ready")
    make_item(ready)
    empty = make_session(opens_in=timedelta(hours=2), name="Empty")

    question = _act(admin_client, "schedule_selected", [ready, empty], confirm=False)
    assert question.status_code == 200
    assert "Yes, I’m sure" in question.content.decode()
    ready.refresh_from_db()
    assert ready.state == State.DRAFT

    done = _act(admin_client, "schedule_selected", [ready, empty], confirm=True).content.decode()
    ready.refresh_from_db()
    empty.refresh_from_db()
    assert (ready.state, empty.state) == (State.SCHEDULED, State.DRAFT)
    assert "Scheduled: Ready" in done
    assert "Empty: Add at least one item" in done


def test_load_now_puts_the_session_in_redis(admin_client, redis_conn, clock):
    session = make_session(opens_in=timedelta(hours=1), state=State.SCHEDULED)
    item = make_item(session, quantity=12)

    response = _act(admin_client, "load_selected", [session], confirm=True)

    assert "pushed 12 units" in response.content.decode()
    assert redis_conn.llen(keys.stock(session.pk, item.pk)) == 12
    session.refresh_from_db()
    assert session.state == State.LOADED


def test_cancel_closes_a_live_session_in_redis(admin_client, live_session, redis_conn):
    session, item, _ = live_session

    response = _act(admin_client, "cancel_selected", [session], confirm=True)

    assert "Cancelled: Live now" in response.content.decode()
    session.refresh_from_db()
    assert session.state == State.CANCELLED
    assert redis_conn.hget(keys.session(session.pk), "state") == b"cancelled"
    assert expire_at(redis_conn, keys.stock(session.pk, item.pk)) == int(session.redis_expires_at.timestamp())


def test_adjust_action_needs_one_session(admin_client, live_session, clock):
    session, _, _ = live_session
    other = make_session(opens_in=timedelta(hours=1))
    several = _act(admin_client, "adjust_stock_action", [session, other], confirm=True)
    assert "Select exactly one session" in several.content.decode()
    one = admin_client.post(reverse(URL), {"action": "adjust_stock_action", ACTION_CHECKBOX_NAME: [session.pk]})
    assert one["Location"] == reverse("admin:plans_salesession_adjust", args=[session.pk])
