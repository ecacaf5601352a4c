"""The waiting page and its JSON poll: answered from Redis alone, and they hand out the pass."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from reservations.admission import check_admission
from reservations.shopper import ShopperSession
from reservations.waiting_room import admit_due, enter_waiting_room, poll_waiting_room, set_admission_rate
from reservations.waiting_views import join_after_captcha


def admitted(session, user_id: int, session_id: int, *, now: float) -> bool:
    """Whether the pass kept in this Django session admits ``user_id`` to ``session_id`` at ``now``."""
    return check_admission(ShopperSession(session).admission_pass(session_id), user_id, session_id, now=now)


pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.waiting_room.urls")]


@pytest.fixture
def shopper(make_user, client):
    user = make_user()
    client.force_login(user)
    return user


def pass_captcha(client, session, clock) -> None:
    store = client.session
    ShopperSession(store).grant_captcha_pass(session.pk, now=clock.now().timestamp())
    store.save()


def status_url(session) -> str:
    return reverse("reservations-waiting-status", args=[session.pk])


def page_url(session) -> str:
    return reverse("reservations-waiting", args=[session.pk])


def test_the_poll_answers_without_sql(loaded_session, opens_at, clock, client, shopper, django_assert_num_queries):
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 60)
    for user in range(9000, 9005):
        enter_waiting_room(sid, user, now=opens_at - 20)
    enter_waiting_room(sid, shopper.pk, now=opens_at - 10)
    clock.set(loaded_session.starts_at)
    with django_assert_num_queries(0):
        response = client.get(status_url(loaded_session))
    assert response.status_code == 200
    data = response.json()
    assert data["state"] == "queued"
    assert 1 <= data["position"] <= 6
    assert data["waiting"] == 6
    assert data["eta_seconds"] == data["position"]


def test_the_poll_admits_and_grants_a_pass_without_sql(
    loaded_session, opens_at, clock, client, shopper, django_assert_num_queries
):
    sid = loaded_session.pk
    enter_waiting_room(sid, shopper.pk, now=opens_at - 10)
    clock.set(loaded_session.starts_at)
    with django_assert_num_queries(0):
        response = client.get(status_url(loaded_session))
    data = response.json()
    assert data["state"] == "admitted"
    assert data["next_url"] == reverse("reservations-sale", args=[sid])
    assert admitted(client.session, shopper.pk, sid, now=opens_at + 1)
    assert not admitted(client.session, shopper.pk + 1, sid, now=opens_at + 1)
    assert not admitted(client.session, shopper.pk, sid + 1, now=opens_at + 1)
    # Admitted after a long wait, they are not asked to solve the CAPTCHA again to reserve.
    assert ShopperSession(client.session).has_captcha_pass(sid, now=opens_at + 60)


def test_someone_else_in_the_queue_does_not_admit_me(loaded_session, opens_at, clock, client, shopper):
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 60)
    enter_waiting_room(sid, shopper.pk + 1, now=opens_at - 10)
    clock.set(loaded_session.starts_at)
    admit_due(sid, now=opens_at + 5)
    data = client.get(status_url(loaded_session)).json()
    assert data["state"] == "not_queued"
    assert "message" in data
    assert not admitted(client.session, shopper.pk, sid, now=opens_at + 5)


def test_the_poll_needs_a_login(loaded_session, client):
    response = client.get(status_url(loaded_session))
    assert response.status_code == 403
    assert response.json() == {"state": "login_required"}


def test_the_page_needs_the_captcha_first(loaded_session, clock, client, shopper):
    clock.set(loaded_session.starts_at - timedelta(minutes=5))
    response = client.get(page_url(loaded_session))
    assert response.status_code == 303
    assert response["Location"] == reverse("reservations-captcha", args=[loaded_session.pk])
    assert poll_waiting_room(loaded_session.pk, shopper.pk).state == "not_queued"


def test_opening_the_page_joins_and_shows_the_place(loaded_session, opens_at, clock, client, shopper):
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 60)
    admit_due(sid, now=opens_at)
    for user in range(9000, 9003):
        enter_waiting_room(sid, user, now=opens_at)
    clock.set(loaded_session.starts_at)
    pass_captcha(client, loaded_session, clock)
    response = client.get(page_url(loaded_session))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Waiting room sale" in html
    assert status_url(loaded_session) in html
    assert '<dd id="waiting-position">4</dd>' in html
    assert "You are in the queue." in html


def test_before_the_opening_the_page_explains_the_draw(loaded_session, clock, client, shopper):
    clock.set(loaded_session.starts_at - timedelta(minutes=5))
    pass_captcha(client, loaded_session, clock)
    html = client.get(page_url(loaded_session)).content.decode()
    assert "drawn at random" in html
    assert poll_waiting_room(loaded_session.pk, shopper.pk).state == "pre_queue"


def test_the_page_sends_an_admitted_shopper_to_the_sale(loaded_session, opens_at, clock, client, shopper):
    sid = loaded_session.pk
    enter_waiting_room(sid, shopper.pk, now=opens_at - 10)
    clock.set(loaded_session.starts_at)
    pass_captcha(client, loaded_session, clock)
    response = client.get(page_url(loaded_session))
    assert response.status_code == 303
    assert response["Location"] == reverse("reservations-sale", args=[sid])
    assert admitted(client.session, shopper.pk, sid, now=opens_at)


def test_joining_after_the_captcha(loaded_session, opens_at, clock, rf, shopper, client):
    """What the CAPTCHA view returns once the shopper passed it."""
    sid = loaded_session.pk
    set_admission_rate(sid, 1.0, now=opens_at - 60)
    clock.set(loaded_session.starts_at - timedelta(seconds=30))
    request = rf.get("/")
    request.session = client.session
    response = join_after_captcha(request, sid)
    assert response.status_code == 303
    assert response["Location"] == page_url(loaded_session)
    assert poll_waiting_room(sid, shopper.pk).state == "pre_queue"


def test_without_the_waiting_room_everyone_goes_straight_to_the_sale(loaded_session, rf, client, shopper, settings):
    settings.FLASHSALE_WAITING_ROOM_ENABLED = False
    request = rf.get("/")
    request.session = client.session
    assert join_after_captcha(request, loaded_session.pk)["Location"] == reverse(
        "reservations-sale", args=[loaded_session.pk]
    )
