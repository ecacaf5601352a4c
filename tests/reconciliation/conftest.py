"""Fixtures of the payment and reconciliation tests.

The sandbox gateway runs as a real process on loopback (``sandbox``); our site runs in Django's
live server (``live_server``) so the gateway can post its webhooks to us over HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from ulid import ULID

from flashsale import clock as site_clock
from plans.loading import load_session_into_redis
from plans.models import SaleItem, SaleSession
from reservations import holds
from reservations.checkout import checkout_url_for
from tests.factories import make_item, make_product, make_session
from tests.support.live_server import live_server_fixture
from tests.support.polling import wait_until as wait_for
from tests.support.processes import SandboxGateway

LIVE_SERVER_PORTS = range(18401, 18410)
SANDBOX_PORT = 18410


live_server = live_server_fixture(
    LIVE_SERVER_PORTS, doc="Our site on a fixed loopback port of this suite's range (the gateway posts webhooks to it)."
)


@pytest.fixture
def sandbox(live_server, tmp_path, settings):
    """A fresh sandbox gateway process (own storage) wired to the live server, and our settings wired to it."""
    gateway = SandboxGateway(
        port=SANDBOX_PORT, db_path=tmp_path / "sandbox.sqlite3", site_url=live_server.url, retry_max_seconds=2
    )
    settings.FLASHSALE_GATEWAY_URL = gateway.url
    gateway.start()
    yield gateway
    gateway.stop()


@dataclass
class Sale:
    session: SaleSession
    item: SaleItem


@pytest.fixture
def sale(db, clock) -> Sale:
    """A live session with one item of 10 units at 49.90 EUR, loaded into Redis by plans.loading.

    Tests that use the live server get a transactional database (pytest-django's rule), so the
    server thread sees these rows.
    """
    session = make_session(opens_in=timedelta(minutes=-1), lasts=timedelta(hours=2))
    item = make_item(session, make_product(), quantity=10, per_user_limit=3, sale_price=Decimal("49.90"))
    load_session_into_redis(session, now=site_clock.now())
    return Sale(session=session, item=item)


@dataclass
class Checkout:
    txn_id: str
    url: str
    reservation: holds.Reservation


def reserve(sale: Sale, user, *, quantity: int = 1) -> Checkout:
    """Reserve through the reservations code and build the redirect the shopper follows."""
    txn_id = str(ULID())
    reservation = holds.reserve_units(
        sale.session.pk, sale.item.pk, user_id=user.pk, quantity=quantity, txn_id=txn_id, now=site_clock.now()
    )
    return Checkout(txn_id=txn_id, url=checkout_url_for(reservation), reservation=reservation)


FORM_RE = re.compile(
    r'<form method="post" action="(?P<action>/checkout/[^"]+/(?P<verb>pay|cancel))">\s*'
    r'<input type="hidden" name="nonce" value="(?P<nonce>[^"]+)">'
)


@dataclass
class CheckoutPage:
    status: int
    text: str
    forms: dict[str, tuple[str, str]]

    @property
    def order_id(self) -> str:
        return self.forms["pay"][0].split("/")[2]


def open_checkout(browser: requests.Session, url: str) -> CheckoutPage:
    response = browser.get(url, timeout=5)
    forms = {m["verb"]: (m["action"], m["nonce"]) for m in FORM_RE.finditer(response.text)}
    return CheckoutPage(status=response.status_code, text=response.text, forms=forms)


def press(browser: requests.Session, sandbox: SandboxGateway, page: CheckoutPage, verb: str) -> requests.Response:
    """Press Pay or Cancel: POST the page's form as a browser would (without following the redirect)."""
    action, nonce = page.forms[verb]
    return browser.post(f"{sandbox.url}{action}", data={"nonce": nonce}, allow_redirects=False, timeout=5)


def txn_row(txn_id: str):
    from reservations.models import Transaction

    return Transaction.objects.filter(txn_id=txn_id).first()


@dataclass
class Purchase:
    checkout: Checkout
    page: CheckoutPage
    response: requests.Response

    @property
    def txn_id(self) -> str:
        return self.checkout.txn_id

    @property
    def order_id(self) -> str:
        return self.page.order_id


def buy(sale: Sale, user, sandbox: SandboxGateway, *, quantity: int = 1, before_pay=None) -> Purchase:
    """Reserve, open the gateway's checkout, (``before_pay(checkout)``), press Pay."""
    checkout = reserve(sale, user, quantity=quantity)
    browser = requests.Session()
    page = open_checkout(browser, checkout.url)
    assert page.status == 200, page.text
    if before_pay is not None:
        before_pay(checkout)
    response = press(browser, sandbox, page, "pay")
    assert response.status_code == 303, response.text
    return Purchase(checkout=checkout, page=page, response=response)


def delivered(sandbox: SandboxGateway, order_id: str, count: int = 1) -> list[dict]:
    """Await ``count`` finished webhook deliveries of an order at the sandbox."""
    return wait_for(
        lambda: (
            (rows := [d for d in sandbox.deliveries() if d["order_id"] == order_id and d["delivered_at"]])
            and len(rows) >= count
            and rows
        ),
        what=f"{count} webhook deliveries of {order_id}",
    )


def kinds(run) -> list[tuple[str, str]]:
    return sorted(run.discrepancies.values_list("kind", "txn_id"))
