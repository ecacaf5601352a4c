"""A shopper's journey in headless Chromium: location, CAPTCHA inline, live stock, reserve.

Runs the site in a live server thread (port from this app's test range) and drives Debian's
Chromium through Playwright; skipped where no Chromium is installed.
"""

from __future__ import annotations

import shutil
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from reservations.holds import reserve_units
from reservations.tokens import verify_for_site

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
GATEWAY = "http://127.0.0.1:18351"

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.skipif(not CHROMIUM, reason="no Chromium installed")]


@pytest.fixture
def site(transactional_db):
    from django.test.testcases import LiveServerThread, _StaticFilesHandler

    thread = LiveServerThread("127.0.0.1", _StaticFilesHandler, connections_override={}, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    yield f"http://127.0.0.1:{thread.port}"
    thread.terminate()


def test_a_shopper_verifies_early_watches_stock_and_reserves(site, load_sale, make_user, clock, settings, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls below are ours.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    monkeypatch.setattr("captcha.conf.settings.CAPTCHA_TEST_MODE", True)
    settings.FLASHSALE_GATEWAY_URL = GATEWAY
    sale = load_sale(quantities=[1, 5], limit=2, cities=["Paris", "Lyon"])
    paris, lyon = sale.items
    user = make_user("walker", password="a-long-pass-phrase")
    sale_url = site + reverse("reservations-sale", args=[sale.id])

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(geolocation={"latitude": 45.76, "longitude": 4.84}, permissions=["geolocation"])
        page = context.new_page()
        page.goto(site + reverse("login"))
        page.fill("input[name=username]", "walker")
        page.fill("input[name=password]", "a-long-pass-phrase")
        page.click("button[type=submit], input[type=submit]")
        page.wait_for_url(lambda url: "/accounts/login/" not in url)

        page.goto(sale_url)
        cards = page.locator("article h3")
        assert cards.first.get_attribute("id") == f"n{paris.pk}"

        # "Use my location" (Lyon) re-sorts the products.
        page.click("#use-location")
        page.wait_for_function("id => document.querySelector('article h3').id === id", arg=f"n{lyon.pk}")
        assert "Your location" in page.inner_text(".location")

        # The CAPTCHA form arrives inline; solving it is remembered for this sale.
        page.fill(".captcha-box input[name=captcha_1]", "PASSED")
        page.click(".captcha-box button")
        page.wait_for_selector("text=You are verified for this sale")

        # Someone else takes the last Paris unit: the page learns it from stock.json by itself.
        reserve_units(sale.id, paris.pk, user_id=user.pk + 1, quantity=1, txn_id="Z" * 26, now=clock.now())
        clock.advance(seconds=1)  # the site's copy of the stock is at most a second old
        paris_card = page.locator("article", has=page.locator(f"#n{paris.pk}"))
        paris_card.locator("[data-state]").filter(has_text="Sold out").wait_for(timeout=10_000)
        assert paris_card.locator("[data-left]").inner_text() == "0"
        assert paris_card.locator("button[name=item]").is_disabled()

        # Reserving sends the shopper to the gateway with a signed token.
        lyon_card = page.locator("article", has=page.locator(f"#n{lyon.pk}"))
        lyon_card.locator(f"select[name=q{lyon.pk}]").select_option("2")
        with page.expect_request(lambda request: request.url.startswith(GATEWAY)) as sent:
            lyon_card.locator("button[name=item]").click()
        gateway_url = sent.value.url
        browser.close()

    url = urlsplit(gateway_url)
    claims = verify_for_site(parse_qs(url.query)["token"][0], now=clock.now().timestamp())
    assert (url.path, claims.user_id, claims.item_id, claims.units) == ("/checkout/", user.pk, lyon.pk, 2)


def test_the_page_never_goes_back_to_an_older_stock_snapshot(site, load_sale, make_user, clock, monkeypatch):
    """Snapshots come from different processes and caches: one older than what the tab showed is ignored."""
    import json

    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    sale = load_sale(quantities=[5])
    item = str(sale.item.pk)
    sale_url = site + reverse("reservations-sale", args=[sale.id])
    served = []

    def answer(version: int, remaining: int) -> None:
        body = {"session": sale.id, "version": version, "phase": "live", "items": {item: remaining}}
        served.append(json.dumps(body))

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.route(
            "**/stock.json",
            lambda route: route.fulfill(status=200, content_type="application/json", body=served.pop(0)),
        )
        page.goto(sale_url)
        shown = int(page.get_attribute("[data-version]", "data-version"))
        remaining = page.locator("article", has=page.locator(f"#n{item}")).locator("[data-left]")
        assert remaining.inner_text() == "5"

        answer(shown + 2, 3)  # newer: applied
        page.evaluate("() => document.dispatchEvent(new Event('flashsale:poll'))")
        page.wait_for_function(
            f"() => document.getElementById('n{item}').parentNode.querySelector('[data-left]').textContent === '3'"
        )
        answer(shown + 1, 4)  # older than what the tab showed (a cache that lags): ignored
        page.evaluate("() => document.dispatchEvent(new Event('flashsale:poll'))")
        page.wait_for_function("() => window.flashsaleLastPoll && window.flashsaleLastPoll.ignored === true")
        assert remaining.inner_text() == "3"
        # A reload served from a page older than the tab's last snapshot asks at once and keeps the newer.
        answer(shown + 3, 2)
        page.reload()
        page.wait_for_function(
            f"() => document.getElementById('n{item}').parentNode.querySelector('[data-left]').textContent === '2'"
        )
        browser.close()
