"""Deactivating or deleting a shopper ends their sessions and reserve tickets at once, on every path."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from flashsale import accounts
from flashsale.tasks import forget_tickets_of_sessions
from reservations import tickets
from tests.factories import load_live_session


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def visit_sale(client: Client, session_id: int) -> str:
    """Open the sale page (which writes the shopper's reserve ticket); returns the session key."""
    assert client.get(reverse("reservations-sale", args=[session_id])).status_code == 200
    session_key = client.session.session_key
    assert tickets.read_ticket(session_id, session_key) is not None
    return session_key


def ended(client: Client, session_key: str, session_id: int) -> bool:
    """No session left for the cookie, no ticket left for it, and the pages see a visitor."""
    return (
        SESSION_KEY not in client.session
        and tickets.read_ticket(session_id, session_key) is None
        and b"Log in" in client.get(reverse("home")).content
    )


def test_deactivate_user_ends_every_session_and_ticket(make_user):
    session, _, _ = load_live_session()
    scalper, other = make_user("scalper"), make_user("someone-else")
    phone, laptop, bystander = logged_in(scalper), logged_in(scalper), logged_in(other)
    keys = [visit_sale(browser, session.pk) for browser in (phone, laptop, bystander)]

    assert accounts.deactivate_user(scalper) is True

    scalper.refresh_from_db()
    assert scalper.is_active is False
    assert ended(phone, keys[0], session.pk) and ended(laptop, keys[1], session.pk)
    assert tickets.read_ticket(session.pk, keys[2]) is not None  # nobody else is touched
    assert b"someone-else" in bystander.get(reverse("home")).content
    assert accounts.deactivate_user(scalper) is False  # twice: nothing more to do, no error


def test_saving_a_user_inactive_anywhere_ends_their_sessions(make_user):
    session, _, _ = load_live_session()
    user = make_user()
    browser = logged_in(user)
    key = visit_sale(browser, session.pk)
    user.is_active = False
    user.save()
    assert ended(browser, key, session.pk)


def test_saving_other_fields_of_an_active_user_keeps_their_sessions(make_user):
    session, _, _ = load_live_session()
    user = make_user()
    browser = logged_in(user)
    key = visit_sale(browser, session.pk)
    user.first_name = "Ada"
    user.save()
    assert tickets.read_ticket(session.pk, key) is not None
    assert SESSION_KEY in browser.session


def test_deleting_a_user_ends_their_sessions(make_user, django_user_model):
    session, _, _ = load_live_session()
    user = make_user()
    browser = logged_in(user)
    key = visit_sale(browser, session.pk)
    django_user_model.objects.filter(pk=user.pk).delete()  # a bulk delete still sends post_delete
    assert ended(browser, key, session.pk)


def test_the_admin_bulk_action_deactivates_and_ends_sessions(make_user, admin_client, django_user_model):
    session, _, _ = load_live_session()
    first, second, already = make_user(), make_user(), make_user(is_active=False)
    browsers = [logged_in(first), logged_in(second)]
    keys = [visit_sale(browser, session.pk) for browser in browsers]

    response = admin_client.post(
        reverse("admin:auth_user_changelist"),
        {"action": "deactivate_selected", "_selected_action": [first.pk, second.pk, already.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "2 user(s) deactivated; their sessions and reserve tickets have ended. 1 already inactive." in (
        response.content.decode()
    )
    assert not django_user_model.objects.filter(pk__in=[first.pk, second.pk], is_active=True).exists()
    assert all(ended(browser, key, session.pk) for browser, key in zip(browsers, keys, strict=True))


def test_unticking_active_on_the_admin_change_form_ends_sessions(make_user, admin_client):
    session, _, _ = load_live_session()
    user = make_user("carla")
    browser = logged_in(user)
    key = visit_sale(browser, session.pk)
    response = admin_client.post(
        reverse("admin:auth_user_change", args=[user.pk]),
        {
            "username": "carla",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            # is_active left out: the box is unticked
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.is_active is False
    assert ended(browser, key, session.pk)


def test_a_ticket_written_by_a_request_in_flight_is_swept_later(
    make_user, django_capture_on_commit_callbacks, settings
):
    """A sale page that read the session just before the deactivation writes its ticket just after."""
    from celery import current_app

    session, _, _ = load_live_session()
    user = make_user()
    browser = logged_in(user)
    key = visit_sale(browser, session.pk)
    ticket = tickets.read_ticket(session.pk, key)

    with django_capture_on_commit_callbacks() as callbacks:
        accounts.deactivate_user(user)
    assert tickets.read_ticket(session.pk, key) is None
    tickets.store_ticket(session.pk, key, ticket)  # the request in flight

    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True  # the countdown passes at once
    try:
        for callback in callbacks:
            callback()
    finally:
        current_app.conf.task_always_eager = eager
    assert tickets.read_ticket(session.pk, key) is None
    assert forget_tickets_of_sessions([key]) == 0  # the sweep again: nothing left, no error
