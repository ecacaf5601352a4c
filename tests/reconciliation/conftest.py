"""Fixtures of the payment and reconciliation tests.

The sandbox gateway runs as a real process on loopback (``sandbox``); our site runs in Django's
live server (``live_server``) so the gateway can post its webhooks to us over HTTP. What the tests
do with them (reserve, pay, await webhooks) is in ``tests.support.payments``. The Stripe
tests run localstripe the same way (``localstripe``: one process for the run, emptied per test).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from flashsale import clock as site_clock
from plans.loading import load_session_into_redis
from tests.factories import make_item, make_product, make_session
from tests.support.live_server import live_server_fixture
from tests.support.processes import SANDBOX_PORTS, LocalStripe, SandboxGateway, free_port
from tests.support.sales import Sale

LIVE_SERVER_PORTS = range(18401, 18410)


live_server = live_server_fixture(
    LIVE_SERVER_PORTS, doc="Our site on a fixed loopback port of this suite's range (the gateway posts webhooks to it)."
)


@pytest.fixture
def sandbox(live_server, tmp_path, settings):
    """A fresh sandbox gateway process (own storage) wired to the live server, and our settings wired to it."""
    gateway = SandboxGateway(
        port=free_port(SANDBOX_PORTS),
        db_path=tmp_path / "sandbox.sqlite3",
        site_url=live_server.url,
        retry_max_seconds=2,
    )
    settings.FLASHSALE_GATEWAY_URL = gateway.url
    gateway.start()
    yield gateway
    gateway.stop()


@pytest.fixture(scope="session")
def localstripe_server(tmp_path_factory):
    """localstripe as its own process for the whole run (started from scratch), stopped at the end."""
    server = LocalStripe(log_dir=tmp_path_factory.mktemp("localstripe")).start()
    yield server
    server.stop()


def _use_stripe(server: LocalStripe, settings) -> None:
    server.flush()
    for name, value in server.settings().items():
        setattr(settings, name, value)


@pytest.fixture
def localstripe(localstripe_server, settings) -> LocalStripe:
    """localstripe emptied, sending no webhooks, and our site's Stripe settings pointed at it."""
    _use_stripe(localstripe_server, settings)
    localstripe_server.send_no_webhooks()
    return localstripe_server


@pytest.fixture
def localstripe_webhooks(localstripe_server, live_server, settings) -> LocalStripe:
    """localstripe emptied, our settings pointed at it, and its signed webhooks sent to the live server."""
    _use_stripe(localstripe_server, settings)
    localstripe_server.send_webhooks_to(f"{live_server.url}/payments/stripe/webhook/")
    return localstripe_server


@pytest.fixture
def sale(db, clock) -> Sale:
    """A live session with one item of 10 units at 49.90 EUR, loaded into Redis by plans.loading.

    Tests that use the live server get a transactional database (pytest-django's rule), so the
    server thread sees these rows.
    """
    session = make_session(opens_in=timedelta(minutes=-1), lasts=timedelta(hours=2))
    item = make_item(session, make_product(), quantity=10, per_user_limit=3, sale_price=Decimal("49.90"))
    load_session_into_redis(session, now=site_clock.now())
    return Sale(session=session, items=[item])
