"""The home page lists today's loaded sessions: live (ends in), upcoming (starts in), ended."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse


def test_sessions_are_grouped_by_phase_with_countdowns(client, load_sale, clock):
    clock.set(clock.now().replace(hour=12, minute=0, second=0))
    live = load_sale(quantities=[1], opens_in=timedelta(minutes=-10), lasts=timedelta(minutes=40))
    upcoming = load_sale(quantities=[1], opens_in=timedelta(hours=2))
    ending = load_sale(quantities=[1], opens_in=timedelta(minutes=-5), lasts=timedelta(minutes=10))
    tomorrow = load_sale(quantities=[1], opens_in=timedelta(hours=13))
    clock.advance(minutes=6)  # `ending` is over now

    html = client.get(reverse("home")).content.decode()

    live_part, _, rest = html.partition("Coming up")
    upcoming_part, _, ended_part = rest.partition("Ended")
    assert live.session.name in live_part and "Ends in" in live_part
    assert f'data-countdown="{live.session.ends_at.timestamp():f}"' in live_part
    assert upcoming.session.name in upcoming_part
    assert f'data-countdown="{upcoming.session.starts_at.timestamp():f}"' in upcoming_part
    assert ending.session.name in ended_part
    assert tomorrow.session.name not in html
    assert reverse("reservations-sale", args=[live.id]) in html


def test_no_sessions_today(client, db):
    assert "No sale sessions today" in client.get(reverse("home")).content.decode()


def test_scheduled_sessions_not_yet_loaded_are_listed_from_one_cached_query(
    client, db, clock, django_assert_num_queries
):
    from plans.models import SaleSession
    from tests.factories import make_session

    clock.set(clock.now().replace(hour=9, minute=0, second=0))
    later = make_session(opens_in=timedelta(hours=3), state=SaleSession.State.SCHEDULED)
    make_session(opens_in=timedelta(hours=4), state=SaleSession.State.DRAFT, name="A draft nobody sees")

    with django_assert_num_queries(1):
        html = client.get(reverse("home")).content.decode()
    with django_assert_num_queries(0):
        assert client.get(reverse("home")).content.decode() == html

    upcoming_part = html.partition("Coming up")[2]
    assert later.name in upcoming_part and "Its sale page opens a few minutes before the start." in upcoming_part
    assert "A draft nobody sees" not in html
    assert reverse("reservations-sale", args=[later.pk]) not in html  # nothing to show until it is loaded
