"""The live page's admission-rate form sets the rate (empty = all at once) and rejects bad values."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from reservations.waiting_room import set_admission_rate, waiting_room_stats
from tests.factories import make_session

pytestmark = pytest.mark.django_db


def _url(session) -> str:
    return reverse("admin:plans_salesession_admission_rate", args=[session.pk])


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_sets_the_rate(operator_client, live_session):
    response = operator_client.post(_url(live_session), {"rate": "12.5"}, follow=True)

    assert response.redirect_chain == [(reverse("admin:plans_salesession_live", args=[live_session.pk]), 302)]
    assert "Admission rate of Live now set to 12.5 per second." in _messages(response)
    assert waiting_room_stats(live_session.pk)["rate"] == 12.5


def test_empty_lets_everyone_in_at_once(operator_client, live_session):
    set_admission_rate(live_session.pk, 3.0)

    response = operator_client.post(_url(live_session), {"rate": ""}, follow=True)

    assert "Admission rate of Live now set to everyone at once." in _messages(response)
    assert waiting_room_stats(live_session.pk)["rate"] is None


@pytest.mark.parametrize("value", ["-1", "abc", "inf"])
def test_rejects_a_bad_value(operator_client, live_session, value):
    set_admission_rate(live_session.pk, 3.0)

    response = operator_client.post(_url(live_session), {"rate": value}, follow=True)

    assert any(m.startswith("Admission rate not changed:") for m in _messages(response))
    assert waiting_room_stats(live_session.pk)["rate"] == 3.0


def test_negative_value_message_says_why(operator_client, live_session):
    response = operator_client.post(_url(live_session), {"rate": "-1"}, follow=True)
    assert "Admission rate not changed: Ensure this value is greater than or equal to 0." in _messages(response)


def test_a_session_not_loaded_is_refused(operator_client, clock, redis_conn):
    draft = make_session(opens_in=timedelta(hours=1), name="Draft")

    response = operator_client.post(_url(draft), {"rate": "5"}, follow=True)

    assert "Draft is draft: the admission rate can be set once it is loaded." in _messages(response)
    from flashsale.store import keys

    assert redis_conn.exists(keys.waiting(draft.pk)) == 0


def test_get_is_not_allowed(operator_client, live_session):
    assert operator_client.get(_url(live_session)).status_code == 405


def test_post_without_csrf_token_is_refused(operator, live_session, client):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(operator)

    response = strict.post(_url(live_session), {"rate": "5"})

    assert response.status_code == 403
    assert waiting_room_stats(live_session.pk)["rate"] is None
