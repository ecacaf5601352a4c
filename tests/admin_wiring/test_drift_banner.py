"""A session whose last audit found drift shows an error banner with the numbers on the list,
its change page and its live page; a balanced audit takes the banner away."""

from __future__ import annotations

import pytest
from django.urls import reverse

from reservations.audit import audit_session

pytestmark = pytest.mark.django_db

BANNER = "Stock drift in Live now"


@pytest.fixture
def drifting(live_session, inject_extra_unit):
    inject_extra_unit(live_session, live_session.test_items[1])
    assert not audit_session(live_session.pk).ok
    return live_session


def _error_messages(response) -> list[str]:
    return [m.message for m in response.context["messages"] if m.level_tag == "error"]


def test_changelist_shows_the_drift_banner(operator_client, drifting):
    item = drifting.test_items[1]
    response = operator_client.get(reverse("admin:plans_salesession_changelist"))

    banners = [m for m in _error_messages(response) if m.startswith(BANNER)]
    assert len(banners) == 1
    assert f"{item.product.name}: 1 unit too many could sell (6 accounted for, 5 expected)" in banners[0]
    assert 'class="error"' in response.content.decode()


def test_change_page_shows_the_drift_banner(operator_client, drifting):
    response = operator_client.get(reverse("admin:plans_salesession_change", args=[drifting.pk]))

    assert any(m.startswith(BANNER) and "1 unit too many could sell" in m for m in _error_messages(response))


def test_live_page_shows_the_drift_banner(operator_client, drifting):
    page = operator_client.get(reverse("admin:plans_salesession_live", args=[drifting.pk])).content.decode()

    banner = page.split('id="audit-banner"', 1)[1].split("</div>", 1)[0]
    assert "hidden" not in banner.split(">", 1)[0]
    item = drifting.test_items[1]
    assert f"{item.product.name}: 1 unit too many could sell (6 accounted for, 5 expected)" in banner
    # Said once: the audit section below points to it instead of printing the formula again.
    shown = page.split('id="live-initial"', 1)[0]  # the page as read, not the data its script starts from
    assert shown.count("1 unit too many could sell") == 1
    assert "drift found (above)" in page
    # The repair is reachable from here, not only from the sessions list.
    assert reverse("admin:plans_salesession_repair", args=[drifting.pk]) in banner


def test_balanced_sessions_show_no_banner(operator_client, live_session, redis_conn):
    assert audit_session(live_session.pk).ok

    listing = operator_client.get(reverse("admin:plans_salesession_changelist"))
    live = operator_client.get(reverse("admin:plans_salesession_live", args=[live_session.pk])).content.decode()

    assert not [m for m in _error_messages(listing) if m.startswith("Stock drift")]
    assert '<div id="audit-banner" class="errornote" hidden>' in live
