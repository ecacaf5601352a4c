"""The live page's JSON carries the waiting room's counts and the latest audit; the page renders them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from plans.loading import load_session_into_redis
from reservations.audit import audit_session
from reservations.waiting_room import admit_due, enter_waiting_room, set_admission_rate
from tests.factories import make_item, make_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def opening_soon(db, clock):
    session = make_session(opens_in=timedelta(minutes=10), name="Opening soon")
    make_item(session, quantity=20)
    load_session_into_redis(session, now=clock.now())
    return session


def _data(client, session) -> dict:
    response = client.get(reverse("admin:plans_salesession_live_data", args=[session.pk]))
    assert response.status_code == 200
    return response.json()


def test_waiting_room_counts_follow_the_queue(operator_client, opening_soon, clock, settings):
    settings.FLASHSALE_WAITING_ROOM_IDLE_SECONDS = 60
    sid = opening_soon.pk
    opens = opening_soon.starts_at.timestamp()
    set_admission_rate(sid, 1.0, now=opens - 60)
    clock.set(opening_soon.starts_at - timedelta(seconds=30))
    for user_id in (1, 2, 3):
        enter_waiting_room(sid, user_id, now=opens - 30)

    before = _data(operator_client, opening_soon)["waiting_room"]
    assert (before["waiting"], before["pre_queue"], before["admitted"], before["rate"]) == (3, 3, 0, 1.0)

    # Two admitted in the first two seconds; then admissions all but stop and the third goes idle.
    admit_due(sid, now=opens + 2)
    set_admission_rate(sid, 0.001, now=opens + 2)
    admit_due(sid, now=opens + 100)
    clock.set(opening_soon.starts_at + timedelta(seconds=100))

    after = _data(operator_client, opening_soon)["waiting_room"]
    assert (after["waiting"], after["admitted"], after["dropped"]) == (0, 2, 1)
    assert (after["rate"], after["paused"]) == (0.001, False)


def test_audit_state_is_carried(operator_client, opening_soon, redis_conn):
    assert _data(operator_client, opening_soon)["audit"] is None

    audit_session(opening_soon.pk)
    balanced = _data(operator_client, opening_soon)["audit"]
    assert balanced["ok"] is True
    assert balanced["summary"] == f"session {opening_soon.pk}: 1 items and 0 users balanced"

    from flashsale.store import keys

    item = opening_soon.items.get()
    redis_conn.rpop(keys.stock(opening_soon.pk, item.pk))
    audit_session(opening_soon.pk)
    drifting = _data(operator_client, opening_soon)["audit"]
    assert (drifting["ok"], drifting["drifting_items"]) == (False, 1)
    assert "(drift -1)" in drifting["summary"]


def test_the_stock_figures_are_still_there(operator_client, opening_soon):
    data = _data(operator_client, opening_soon)
    assert data["totals"]["allocated"] == 20
    assert data["session"]["name"] == "Opening soon"


def test_live_page_renders_the_panel_and_initial_data(operator_client, opening_soon, clock):
    set_admission_rate(opening_soon.pk, 2.5)
    enter_waiting_room(opening_soon.pk, 7, now=clock.now().timestamp())

    response = operator_client.get(reverse("admin:plans_salesession_live", args=[opening_soon.pk]))
    page = response.content.decode()

    assert response.context["snapshot"]["waiting_room"]["waiting"] == 1
    assert '<td class="num" data-key="waiting">1</td>' in page
    assert '<td class="num" data-key="rate">2.5/s</td>' in page
    assert 'id="admission-rate-form"' in page
    assert '"waiting_room": {' in page  # the initial JSON the page's script renders first


def test_a_session_not_loaded_has_no_waiting_room(operator_client, clock):
    draft = make_session(opens_in=timedelta(hours=1))
    make_item(draft)
    assert _data(operator_client, draft)["waiting_room"] is None
