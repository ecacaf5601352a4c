"""Staff see the sessions list with live figures from Redis, the live page and its JSON."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from flashsale.store import keys
from tests.factories import make_item, make_session

pytestmark = pytest.mark.django_db


def _column(html: str, name: str) -> list[str]:
    return re.findall(rf'<td class="field-{name}">([^<]*)</td>', html)


def test_list_shows_live_figures_for_loaded_sessions(admin_client, live_session, redis_conn, clock):
    session, first, second = live_session
    redis_conn.lpop(keys.stock(session.pk, first.pk), 4)
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "held", 3)
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "paid", 1)
    draft = make_session(opens_in=timedelta(hours=3), name="Tonight")
    make_item(draft, quantity=8)

    response = admin_client.get(reverse("admin:plans_salesession_changelist"))

    html = response.content.decode()
    assert response.status_code == 200
    # Ordered by starts_at: the live session first, then the draft.
    assert _column(html, "units_allocated") == ["15", "8"]
    assert _column(html, "units_remaining") == ["11", "–"]
    assert _column(html, "units_held") == ["3", "–"]
    assert _column(html, "units_paid") == ["1", "–"]
    assert _column(html, "item_count") == ["2", "1"]


def test_list_filters_by_state_and_day(admin_client, live_session, clock):
    session, _, _ = live_session
    tomorrow = make_session(opens_in=timedelta(days=1), name="Tomorrow session")
    url = reverse("admin:plans_salesession_changelist")

    by_state = admin_client.get(url, {"state__exact": "live"}).content.decode()
    by_day = admin_client.get(url, {"day": tomorrow.starts_at.date().isoformat()}).content.decode()

    assert "Live now" in by_state and "Tomorrow session" not in by_state
    assert "Tomorrow session" in by_day and "Live now" not in by_day


def test_change_page_links_to_live_and_adjust(admin_client, live_session):
    session, _, _ = live_session
    html = admin_client.get(reverse("admin:plans_salesession_change", args=[session.pk])).content.decode()
    assert reverse("admin:plans_salesession_live", args=[session.pk]) in html
    assert reverse("admin:plans_salesession_adjust", args=[session.pk]) in html
    assert "locked" in html


def test_live_page_and_json(admin_client, live_session, redis_conn, clock):
    session, first, _ = live_session
    redis_conn.lpop(keys.stock(session.pk, first.pk), 2)
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "held", 2)
    redis_conn.hincrby(keys.counts(session.pk, first.pk), "rejected_sold_out", 5)
    minute = int(clock.now().timestamp()) // 60
    redis_conn.hincrby(keys.timeline(session.pk), str(minute), 2)

    page = admin_client.get(reverse("admin:plans_salesession_live", args=[session.pk]))
    data = admin_client.get(reverse("admin:plans_salesession_live_data", args=[session.pk]))

    assert page.status_code == 200
    assert reverse("admin:plans_salesession_live_data", args=[session.pk]) in page.content.decode()
    assert 'id="live-chart"' in page.content.decode()
    payload = data.json()
    assert payload["source"] == "redis"
    row = next(row for row in payload["items"] if row["id"] == first.pk)
    assert (row["allocated"], row["remaining"], row["held"], row["rejected"]) == (10, 8, 2, 5)
    assert row["balanced"] is True
    assert payload["totals"]["allocated"] == 15
    # Times come labelled by the server, in the site's time zone (the browser's clock never shows).
    label = timezone.localtime(datetime.fromtimestamp(minute * 60, UTC)).strftime("%H:%M")
    assert payload["timeline"] == [[minute * 60, 2, label]]
    assert payload["time_zone"] == settings.TIME_ZONE and payload["source_label"] == "live figures"
    assert "no-store" in data["Cache-Control"]


def test_live_json_of_a_draft_shows_the_plan(admin_client, clock):
    session = make_session(opens_in=timedelta(hours=1))
    make_item(session, quantity=9)
    payload = admin_client.get(reverse("admin:plans_salesession_live_data", args=[session.pk])).json()
    assert payload["source"] == "plan"
    assert payload["totals"]["allocated"] == 9
    assert payload["totals"]["remaining"] == 0
