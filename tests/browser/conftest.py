"""Fixtures of the browser journeys: our site in a live server, the sandbox gateway (or localstripe)
as its own process, and headless Chromium driven by Playwright's sync API.
"""

from __future__ import annotations

import pytest

from flashsale.payment_settings import payment_origins
from tests.support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    GATEWAY_PORTS,
    LIVE_SERVER_PORTS,
    artifacts_dir,
)
from tests.support.csp import watch_csp
from tests.support.live_server import live_server_fixture
from tests.support.processes import LocalStripe, SandboxGateway, free_port

# Playwright actions fail after this long instead of the 30 s default, so a broken page fails fast.
ACTION_TIMEOUT_MS = 10_000


live_server = live_server_fixture(
    LIVE_SERVER_PORTS,
    doc="pytest-django's live server, on a loopback port of this suite's range (the gateway calls it).",
)


@pytest.fixture(scope="package")
def chromium():
    """One headless Chromium for the package; each journey opens its own contexts (shoppers)."""
    if CHROMIUM is None:
        pytest.skip("no Chromium at /usr/bin/chromium or on PATH (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and Django then refuses ORM calls
    # made here (factories, the drainer, assertions on rows). Allowed only while the browser is up.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Kept on the test item so fixtures can tell, at teardown, whether the test body failed.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def csp_violations() -> list[dict]:
    """Every Content-Security-Policy violation reported by a page of any ``new_context`` of the test."""
    return []


@pytest.fixture
def new_context(chromium, request, csp_violations):
    """``new_context(**options)``: a fresh browser profile (own cookies), closed after the test.

    Its pages report CSP violations into ``csp_violations``; a journey that passed with one
    reported fails at teardown. When the test fails, every page still open is saved under
    ``screenshots/failures/`` first.
    """
    opened = []

    def make(**options):
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = chromium.new_context(**options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        watch_csp(context, csp_violations)
        opened.append(context)
        return context

    yield make
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = artifacts_dir() / "screenshots" / "failures"
        folder.mkdir(parents=True, exist_ok=True)
        pages = [page for context in opened for page in context.pages]
        for number, page in enumerate(pages, start=1):
            page.screenshot(path=str(folder / f"{request.node.name}-{number:02d}.png"), full_page=True)
    for context in opened:
        context.close()
    if report is not None and report.passed and csp_violations:
        pytest.fail(f"Content-Security-Policy violations reported: {csp_violations}")


@pytest.fixture(autouse=True)
def _captcha_test_mode(settings, monkeypatch):
    """The CAPTCHA accepts "PASSED" (django-simple-captcha reads its setting once, at import)."""
    settings.CAPTCHA_TEST_MODE = True
    monkeypatch.setattr("captcha.conf.settings.CAPTCHA_TEST_MODE", True)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Sign-up and log-in hash passwords in the server thread; their cost is not what these test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def gateway(live_server, settings, tmp_path):
    """The sandbox gateway on a port of this suite's range, wired to the live server and back."""
    settings.FLASHSALE_SITE_URL = live_server.url
    gw = SandboxGateway(port=free_port(GATEWAY_PORTS), site_url=live_server.url, db_path=tmp_path / "sandbox.sqlite3")
    settings.FLASHSALE_GATEWAY_URL = gw.url
    gw.start()
    yield gw
    gw.stop()


@pytest.fixture
def localstripe(live_server, settings, tmp_path):
    """localstripe as its own process (from scratch), our site taking payments through it, its
    signed webhooks sent to the live server."""
    server = LocalStripe(log_dir=tmp_path).start()
    try:
        for name, value in server.settings().items():
            setattr(settings, name, value)
        # What the settings derive from STRIPE_JS_URL when they load: the page's policy must let
        # localstripe's stand-in Stripe.js (another origin) load, frame and call.
        origins = payment_origins("stripe", server.js_url)
        settings.FLASHSALE_PAYMENT_SCRIPT_ORIGINS = origins.script
        settings.FLASHSALE_PAYMENT_FRAME_ORIGINS = origins.frame
        settings.FLASHSALE_PAYMENT_CONNECT_ORIGINS = origins.connect
        server.send_webhooks_to(f"{live_server.url}/payments/stripe/webhook/")
        yield server
    finally:
        server.stop()
