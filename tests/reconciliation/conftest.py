"""Fixtures of the payment and reconciliation tests.

The sandbox gateway runs as a real process on loopback (``sandbox``); our site runs in Django's
live server (``live_server``) so the gateway can post its webhooks to us over HTTP.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings
from ulid import ULID

from flashsale import clock as site_clock
from plans.loading import load_session_into_redis
from plans.models import SaleItem, SaleSession
from reservations import stock
from reservations.checkout import checkout_url_for
from tests.factories import make_item, make_product, make_session

ROOT = Path(__file__).resolve().parents[2]
LIVE_SERVER_PORTS = range(18401, 18410)
SANDBOX_PORT = 18410
DEADLINE_SECONDS = 15.0


def wait_for(predicate, *, timeout: float = DEADLINE_SECONDS, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def live_server():
    """Our site on a fixed loopback port of this suite's range (the gateway posts webhooks to it)."""
    from pytest_django.live_server_helper import LiveServer

    # Django's live server refuses SO_REUSEADDR, so a port still in TIME_WAIT from the previous
    # run is busy for a minute: take the next free one of the range.
    for port in LIVE_SERVER_PORTS:
        try:
            server = LiveServer(f"127.0.0.1:{port}")
        except OSError:
            continue
        break
    else:
        raise RuntimeError(f"no free port for the live server in {LIVE_SERVER_PORTS}")
    yield server
    server.stop()


class Sandbox:
    """The sandbox gateway process, its storage file and an authenticated API session."""

    def __init__(self, *, port: int, db_path: Path, site_url: str):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.db_path = db_path
        self.site_url = site_url
        self.process: subprocess.Popen | None = None
        self.api = requests.Session()
        self.api.headers["Authorization"] = f"Bearer {settings.FLASHSALE_GATEWAY_API_KEY}"
        self.log_path = db_path.with_suffix(".log")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SANDBOX_", "FLASHSALE_GATEWAY"))}
        env.update(
            {
                "SANDBOX_TOKEN_KEYS": ",".join(
                    f"{kid}:{secret}" for kid, secret in settings.FLASHSALE_TOKEN_KEYS.items()
                ),
                "SANDBOX_WEBHOOK_SECRET": settings.FLASHSALE_GATEWAY_WEBHOOK_SECRET,
                "SANDBOX_API_KEY": settings.FLASHSALE_GATEWAY_API_KEY,
                "SANDBOX_SITE_URL": self.site_url,
                "SANDBOX_DB_PATH": str(self.db_path),
                "SANDBOX_RETRY_BASE_SECONDS": "0.2",
                "SANDBOX_RETRY_MAX_SECONDS": "2",
            }
        )
        return env

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox_gateway", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )

        def healthy() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the sandbox exited: {self.log_path.read_text()[-2000:]}")
            try:
                response = requests.get(f"{self.url}/healthz", timeout=0.5)
            except requests.ConnectionError:
                return False
            # Only our own process counts: a leftover one on the port would answer for the wrong site.
            return response.status_code == 200 and response.json().get("pid") == self.process.pid

        wait_for(healthy, what="the sandbox gateway to answer")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    # --- the gateway's API, as our tests (the operator of the sandbox) use it -------------

    def add_fault(self, kind: str, **params) -> dict:
        response = self.api.post(f"{self.url}/api/faults", json={"kind": kind, **params}, timeout=5)
        assert response.status_code == 201, response.text
        return response.json()

    def order(self, order_id: str) -> dict:
        response = self.api.get(f"{self.url}/api/orders/{order_id}", timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def orders_on(self, day) -> list[dict]:
        response = self.api.get(
            f"{self.url}/api/orders", params={"date": day.isoformat(), "page_size": 1000}, timeout=5
        )
        assert response.status_code == 200, response.text
        return response.json()["orders"]

    def deliveries(self) -> list[dict]:
        return self.api.get(f"{self.url}/api/deliveries", timeout=5).json()["deliveries"]


@pytest.fixture
def sandbox(live_server, tmp_path, settings):
    """A fresh sandbox gateway process (own storage) wired to the live server, and our settings wired to it."""
    gateway = Sandbox(port=SANDBOX_PORT, db_path=tmp_path / "sandbox.sqlite3", site_url=live_server.url)
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
    reservation: stock.Reservation


def reserve(sale: Sale, user, *, quantity: int = 1) -> Checkout:
    """Reserve through the reservations code and build the redirect the shopper follows."""
    txn_id = str(ULID())
    reservation = stock.reserve_units(
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


def press(browser: requests.Session, sandbox: Sandbox, page: CheckoutPage, verb: str) -> requests.Response:
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


def buy(sale: Sale, user, sandbox: Sandbox, *, quantity: int = 1, before_pay=None) -> Purchase:
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


def delivered(sandbox: Sandbox, order_id: str, count: int = 1) -> list[dict]:
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
