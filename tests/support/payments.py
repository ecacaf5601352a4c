"""A shopper's way through the payment: reserve, open the sandbox gateway's checkout page, press Pay
or Cancel, and await the webhooks the gateway delivers; the rows and discrepancies to check after."""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests
from ulid import ULID

from flashsale import clock as site_clock
from reservations import holds
from reservations.checkout import checkout_url_for
from tests.support.polling import wait_until
from tests.support.processes import SandboxGateway
from tests.support.sales import Sale


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
    return wait_until(
        lambda: (
            (rows := [d for d in sandbox.deliveries() if d["order_id"] == order_id and d["delivered_at"]])
            and len(rows) >= count
            and rows
        ),
        what=f"{count} webhook deliveries of {order_id}",
    )


def kinds(run) -> list[tuple[str, str]]:
    """A reconciliation run's discrepancies as sorted (kind, TransactionID) pairs."""
    return sorted(run.discrepancies.values_list("kind", "txn_id"))
