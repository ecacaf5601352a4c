"""In Chromium, the live page's script renders the waiting room and the drift banner on every poll,
and the admission-rate form sets the rate."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connections

from flashsale.store import keys
from plans.loading import load_session_into_redis
from reservations.audit import audit_session
from reservations.waiting_room import enter_waiting_room, waiting_room_stats
from tests.factories import make_item, make_session
from tests.support.browser import BROWSER_MARKS, CHROMIUM, CHROMIUM_ARGS
from tests.support.csp import watch_csp
from tests.support.live_server import start_live_server

pytestmark = BROWSER_MARKS

LIVE_SERVER_PORTS = range(18600, 18610)
PASSWORD = "Wiring-check-5521"
TIMEOUT_MS = 10_000


@pytest.fixture
def server(transactional_db):
    live = start_live_server(LIVE_SERVER_PORTS)
    yield live
    live.stop()


@pytest.fixture
def browser_page(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test still calls the ORM.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        browser.close()
        # ORM calls made while Playwright's loop runs get a connection of their own: close it, or
        # it outlives the test and keeps the test database from being dropped.
        connections.close_all()


def test_live_page_follows_the_waiting_room_and_the_audit(
    server, browser_page, clock, django_user_model, redis_conn, settings
):
    from playwright.sync_api import expect

    settings.FLASHSALE_LIVE_POLL_MS = 300
    django_user_model.objects.create_superuser("boss", password=PASSWORD)
    session = make_session(opens_in=timedelta(minutes=10), name="Browser sale")
    item = make_item(session, quantity=8)
    load_session_into_redis(session, now=clock.now())
    page = browser_page
    csp_violations = watch_csp(page.context)

    page.goto(f"{server.url}/admin/login/?next=/admin/plans/salesession/{session.pk}/live/")
    page.fill("#id_username", "boss")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    waiting = page.locator('#waiting-room-figures td[data-key="waiting"]')
    expect(waiting).to_have_text("0")
    expect(page.locator("#audit-banner")).to_be_hidden()

    for user_id in (1, 2):
        enter_waiting_room(session.pk, user_id, now=clock.now().timestamp())
    redis_conn.lpush(keys.stock(session.pk, item.pk), redis_conn.lindex(keys.stock(session.pk, item.pk), 0))
    audit_session(session.pk)

    expect(waiting).to_have_text("2")
    expect(page.locator("#audit-banner")).to_be_visible()
    expect(page.locator("#audit-banner")).to_contain_text("1 unit too many could sell (9 accounted for, 8 expected)")
    expect(page.locator("#audit-banner").get_by_role("link", name="Repair stock from PostgreSQL…")).to_be_visible()

    page.fill("#admission-rate-form input[name=rate]", "4")
    page.click("#admission-rate-form input[type=submit]")
    expect(page.locator("ul.messagelist")).to_contain_text(re.compile(r"set to 4 per second"))
    expect(page.locator('#waiting-room-figures td[data-key="rate"]')).to_have_text("4/s")
    assert waiting_room_stats(session.pk)["rate"] == 4.0
    # Its scripts and styles are files of ours: the Content-Security-Policy is never broken.
    assert csp_violations == []
