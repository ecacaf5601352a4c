"""What operators read in the back office: products by their name once, what is left, times in one zone and format."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from plans.live import chart_axis, operator_time
from plans.loading import load_session_into_redis
from tests.factories import make_item, make_product, make_session

pytestmark = pytest.mark.django_db


def test_a_product_named_after_its_city_is_not_named_twice():
    assert str(make_product(city="Paris", name="Spa day (Paris)")) == "Spa day (Paris)"
    assert str(make_product(city="Lyon", name="Spa day")) == "Spa day (Lyon)"


def test_the_adjust_menu_says_what_is_left_not_only_what_was_allocated(admin_client, redis_conn, clock):
    from flashsale.store import keys

    session = make_session(opens_in=timedelta(minutes=-1), name="Live")
    item = make_item(session, make_product(name="Lamp"), quantity=20)
    load_session_into_redis(session)
    redis_conn.lpop(keys.stock(session.pk, item.pk), 2)
    redis_conn.hincrby(keys.counts(session.pk, item.pk), "held", 2)

    html = admin_client.get(reverse("admin:plans_salesession_adjust", args=[session.pk])).content.decode()

    assert "Lamp (Paris): 18 on sale, 2 held, 0 paid of 20" in html and "× 20" not in html


def test_the_add_form_has_no_empty_status_block(admin_client):
    html = admin_client.get(reverse("admin:plans_salesession_add")).content.decode()
    assert ">Status</h2>" not in html and 'name="starts_at_0"' in html


def test_the_chart_axis_runs_left_to_right_before_the_opening():
    opens = 1_800_000_000.0
    axis = chart_axis(starts_at=opens, ends_at=opens + 3600, now=opens - 600, minutes=[])
    assert axis["first"] == axis["last"] == int(opens // 60)
    live = chart_axis(starts_at=opens, ends_at=opens + 3600, now=opens + 600, minutes=[])
    assert live["last"] - live["first"] == 10


def test_times_are_shown_in_the_sites_time_zone_in_one_format(settings):
    settings.TIME_ZONE = "Europe/Paris"
    assert operator_time(1_800_000_000.0) == "2027-01-15 09:00:00"
    assert operator_time(1_800_000_000.0, date=False, zone=True) == "09:00:00 Europe/Paris"


def test_the_sessions_window_column_names_the_time_zone(admin_client, settings):
    make_session(name="Any")
    html = admin_client.get(reverse("admin:plans_salesession_changelist")).content.decode()
    assert f"window ({settings.TIME_ZONE})".lower() in html.lower()
