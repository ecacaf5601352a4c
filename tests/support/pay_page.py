"""Our Stripe pay page as the tests read it: the card form's data, parsed from the HTML."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

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
