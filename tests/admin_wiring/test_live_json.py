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
    assert balanced["summary"] == "balanced"
    assert balanced["formula"] == f"session {opening_soon.pk}: 1 items and 0 users balanced"

    from flashsale.store import keys

    item = opening_soon.items.get()
    redis_conn.rpop(keys.stock(opening_soon.pk, item.pk))
    audit_session(opening_soon.pk)
    drifting = _data(operator_client, opening_soon)["audit"]
    assert (drifting["ok"], drifting["drifting_items"]) == (False, 1)
    assert f"{item.product.name}: 1 unit missing (19 accounted for, 20 expected)" == drifting["summary"]
    assert "(drift -1)" in drifting["formula"]


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


def test_the_funnel_and_the_revenue_follow_the_shoppers(operator_client, live_session, make_user, clock):
    """Visitors → verified → admitted → reserved → paid, each with its share of the step before; money taken."""
    import re

    from captcha.models import CaptchaStore
    from django.test import Client

    from reconciliation.payments import persist_payment
    from reservations.drain import drain_session
    from reservations.holds import confirm_payment, reserve_units

    first = live_session.test_items[0]
    buyers = []
    for name in ("ana", "ben"):
        shopper = Client()
        user = make_user(name)
        shopper.force_login(user)
        shopper.get(reverse("reservations-sale", args=[live_session.pk]))  # a visitor
        buyers.append(user)
    solver = Client()
    solver.force_login(buyers[0])
    page = solver.get(reverse("reservations-captcha", args=[live_session.pk])).content.decode()
    key = re.search(r'name="captcha_0" value="([0-9a-f]+)"', page).group(1)
    solver.post(
        reverse("reservations-captcha", args=[live_session.pk]),
        {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response},
    )  # verified, and admitted at once (no rate set)
    held = reserve_units(live_session.pk, first.pk, user_id=buyers[0].pk, quantity=1, txn_id="F" * 26, now=clock.now())
    persist_payment(
        confirm_payment(live_session.pk, held.txn_id, gateway_order_id="g", amount=held.amount, now=clock.now())
    )
    drain_session(live_session.pk)  # the per-minute timeline follows the drain

    funnel = _data(operator_client, live_session)["funnel"]

    counts = {step["key"]: (step["count"], step["share"]) for step in funnel["steps"]}
    assert counts == {
        "visitors": (2, ""),
        "verified": (1, "50%"),
        "admitted": (1, "100%"),
        "reserved": (1, "100%"),
        "paid": (1, "100%"),
    }
    assert funnel["revenue"] == [{"currency": "EUR", "amount": "49.90"}]
    page = operator_client.get(reverse("admin:plans_salesession_live", args=[live_session.pk])).content.decode()
    assert "Revenue (paid reservations): <strong>49.90 EUR</strong>" in page
