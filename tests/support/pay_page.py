"""Our Stripe pay page as the tests reach it (a hold and its redirect) and read it (the card form's data)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from ulid import ULID

from flashsale import clock
from reservations import holds
from reservations.checkout import checkout_url_for

PAY_FORM = re.compile(
    r'<form id="payment-form" data-publishable-key="(?P<publishable_key>[^"]*)" '
    r'data-client-secret="(?P<client_secret>[^"]*)" data-return-url="(?P<return_url>[^"]*)">'
)


@dataclass(frozen=True)
class PayPageSeen:
    status: int
    text: str
    publishable_key: str = ""
    client_secret: str = ""
    return_url: str = ""

    @property
    def intent_id(self) -> str:
        return self.client_secret.split("_secret_")[0]


def read_pay_page(status: int, text: str) -> PayPageSeen:
    match = PAY_FORM.search(text)
    if match is None:
        return PayPageSeen(status=status, text=text)
    return PayPageSeen(status=status, text=text, **{k: html.unescape(v) for k, v in match.groupdict().items()})


@dataclass(frozen=True)
class Held:
    """A reservation made through the reservations code, and the URL its reserve answer redirects to."""

    txn_id: str
    url: str
    quantity: int


def hold(session_id: int, item_id: int, *, user_id: int, quantity: int = 1) -> Held:
    txn_id = str(ULID())
    reservation = holds.reserve_units(
        session_id, item_id, user_id=user_id, quantity=quantity, txn_id=txn_id, now=clock.now()
    )
    return Held(txn_id=txn_id, url=checkout_url_for(reservation), quantity=quantity)
