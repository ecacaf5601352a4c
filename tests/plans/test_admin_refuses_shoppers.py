"""Shoppers (non-staff) never reach the admin: pages and the live JSON redirect them to the admin login."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("name", ["admin:plans_salesession_changelist", "live", "live_data", "adjust"])
def test_shopper_is_redirected_away(client, make_user, live_session, name):
    session, _, _ = live_session
    client.force_login(make_user())
    url = reverse(name) if name.startswith("admin:") else reverse(f"admin:plans_salesession_{name}", args=[session.pk])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_post_to_adjust_changes_nothing(client, live_session, redis_conn):
    session, item, _ = live_session
    url = reverse("admin:plans_salesession_adjust", args=[session.pk])
    response = client.post(url, {"item": item.pk, "delta": 100, "reason": "x"})
    assert response.status_code == 302
    from flashsale.store import keys

    assert redis_conn.llen(keys.stock(session.pk, item.pk)) == 10
