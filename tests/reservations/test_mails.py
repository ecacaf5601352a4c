"""The shoppers' mails, received by a real SMTP server: sent by Celery after the commit, once each.

The reserve request sends nothing: the reservation mail leaves with the drainer's batch, the receipt
after the payment webhook's write, the turn mail from the waiting room's record of who was let in.
"""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from reconciliation.gateway import GatewayOrder
from reconciliation.payments import record_payment
from reservations import tasks
from reservations.drain import drain_session
from reservations.holds import reserve_units
from reservations.models import SentMail
from reservations.tokens import verify_for_site
from reservations.waiting_room import enter_waiting_room, poll_waiting_room, set_admission_rate
from tests.support.smtp import body_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def buyer(make_user):
    return make_user("mila", email="mila@example.com")


def test_the_reservation_mail_leaves_with_the_drainers_batch_once(
    buyer, load_sale, clock, smtp_server, eager_celery, settings
):
    settings.FLASHSALE_SITE_URL = "https://shop.example"
    sale = load_sale(quantities=[5])
    held = reserve_units(sale.id, sale.item.pk, user_id=buyer.pk, quantity=1, txn_id="M" * 26, now=clock.now())
    assert smtp_server.received == [] and not SentMail.objects.exists()  # nothing on the reserve itself

    drain_session(sale.id)

    (mail,) = smtp_server.wait_for("mila@example.com", subject_contains="Reserved:")
    body = body_of(mail)
    assert f"Reserved: {sale.item.product.name}. Pay by " in str(mail["Subject"])
    assert f"1 × {sale.item.product.name} in {sale.session.name}" in body
    assert "Amount: 49.90 EUR" in body and "(UTC)" in body
    pay_url = next(line for line in body.splitlines() if line.startswith("Pay now: ")).removeprefix("Pay now: ")
    token = parse_qs(urlsplit(pay_url).query)["token"][0]
    assert verify_for_site(token, now=clock.now().timestamp()).txn_id == held.txn_id
    assert "https://shop.example" + reverse("reservations-mine") in body
    # Run again (a Celery retry, a drainer re-reading its batch): nothing more is sent.
    assert tasks.send_reservation_mails.apply(args=[[held.txn_id]]).get() == 0
    assert len(smtp_server.received) == 1 and SentMail.objects.count() == 1


def test_the_receipt_follows_the_payment_webhook(buyer, load_sale, clock, smtp_server, eager_celery):
    sale = load_sale(quantities=[5])
    held = reserve_units(sale.id, sale.item.pk, user_id=buyer.pk, quantity=1, txn_id="P" * 26, now=clock.now())
    order = GatewayOrder(
        order_id="ord_receipt",
        txn_id=held.txn_id,
        session_id=sale.id,
        item_id=sale.item.pk,
        user_id=buyer.pk,
        quantity=1,
        amount=Decimal("49.90"),
        currency="EUR",
        status="paid",
    )
    assert record_payment(order) == ("paid", True)

    (mail,) = smtp_server.wait_for("mila@example.com", subject_contains="Payment confirmed")
    body = body_of(mail)
    assert "Amount paid: 49.90 EUR" in body and "Payment:     ord_receipt" in body
    assert record_payment(order) == ("already_paid", False)
    assert len(smtp_server.to("mila@example.com")) == 1


def test_it_is_your_turn_mails_those_admitted_while_away_not_the_visitor(
    buyer, make_user, load_sale, clock, smtp_server, eager_celery
):
    sale = load_sale(quantities=[5])
    visitor = make_user("theo", email="theo@example.com")
    now = clock.now().timestamp()
    set_admission_rate(sale.id, 1.0, now=now)
    enter_waiting_room(sale.id, buyer.pk, now=now)  # queued: no token yet
    enter_waiting_room(sale.id, visitor.pk, now=now)
    # A second later the visitor's own poll lets the buyer in (she closed her tab meanwhile).
    assert poll_waiting_room(sale.id, visitor.pk, now=now + 1.5).state == "queued"

    assert tasks.mail_turns.apply().get() == 1
    (mail,) = smtp_server.wait_for("mila@example.com", subject_contains="It is your turn")
    assert str(mail["Subject"]) == f"It is your turn in {sale.session.name}"
    assert reverse("reservations-sale", args=[sale.id]) in body_of(mail) and "lasts 5 minutes" in body_of(mail)
    assert tasks.mail_turns.apply().get() == 0  # handed over once
    # The visitor, admitted on their own visit, learns it from their page, not by mail.
    assert poll_waiting_room(sale.id, visitor.pk, now=now + 3).state == "admitted"
    tasks.mail_turns.apply()
    assert smtp_server.to("theo@example.com") == []


def test_a_shopper_without_an_address_gets_no_mail_and_nothing_fails(
    make_user, load_sale, clock, smtp_server, eager_celery
):
    sale = load_sale(quantities=[5])
    nobody = make_user("anon")
    reserve_units(sale.id, sale.item.pk, user_id=nobody.pk, quantity=1, txn_id="N" * 26, now=clock.now())
    drain_session(sale.id)
    assert smtp_server.received == [] and not SentMail.objects.exists()
