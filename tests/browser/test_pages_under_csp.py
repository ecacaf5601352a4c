"""The pages the two journeys do not open, in Chromium under the Content-Security-Policy.

The waiting room (its script is a file now), the provider API docs (Swagger UI through
drf-spectacular's split view) and the user admin's deactivate action: each works, and no page
reports a CSP violation.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from plans.loading import load_session_into_redis
from tests.factories import make_item, make_session
from tests.support.browser import BROWSER_MARKS

pytestmark = BROWSER_MARKS

PASSWORD = "Csp-journey-4410"


@pytest.fixture
def upcoming_sale(transactional_db):
    session = make_session(name="Opening soon", opens_in=timedelta(minutes=5), lasts=timedelta(hours=1))
    make_item(session, quantity=3)
    load_session_into_redis(session)
    return session


def log_in(page, base_url: str, username: str, *, path: str = "/accounts/login/") -> None:
    page.goto(f"{base_url}{path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Log in")).click()


def test_waiting_room_api_docs_and_user_admin_break_no_policy(
    live_server, upcoming_sale, new_context, csp_violations, make_user
):
    make_user("early-bird", password=PASSWORD)
    shopper = new_context().new_page()
    log_in(shopper, live_server.url, "early-bird")
    shopper.goto(f"{live_server.url}/sessions/{upcoming_sale.pk}/")
    shopper.get_by_label("Type the characters you see").fill("PASSED")
    shopper.get_by_role("button", name="Verify").click()
    # Verified before the opening: into the waiting room, whose script polls and fills the figures.
    expect(shopper.locator("#waiting-headline")).to_contain_text("You are in the waiting room")
    expect(shopper.locator("#waiting-count")).to_have_text("1")
    expect(shopper.locator("#waiting-eta-label")).to_have_text("Sale opens in")
    # Its script (a file of ours now, no inline block) polls the queue.
    poll = shopper.wait_for_event("response", lambda response: "/waiting/status.json" in response.url)
    assert poll.status == 200

    docs = new_context().new_page()
    docs.goto(f"{live_server.url}/api/docs/")
    expect(docs.get_by_text("/api/providers/{slug}/products/")).to_be_visible()
    expect(docs.get_by_text("Upsert a batch of products")).to_be_visible()

    get_user_model().objects.create_superuser("boss", password=PASSWORD)
    scalper = make_user("scalper", password=PASSWORD)
    admin = new_context().new_page()
    log_in(admin, live_server.url, "boss", path="/admin/login/")
    admin.goto(f"{live_server.url}/admin/auth/user/?q=scalper")
    admin.get_by_role("row", name=re.compile("scalper")).get_by_role("checkbox").check()
    admin.locator("select[name=action]").select_option("deactivate_selected")
    admin.get_by_role("button", name="Go").click()
    expect(admin.locator("ul.messagelist")).to_contain_text("1 user(s) deactivated")
    scalper.refresh_from_db()
    assert scalper.is_active is False

    assert csp_violations == []
