"""My reservations: persisted rows and live holds, with status and the time left to pay."""

from __future__ import annotations

from django.urls import reverse

from reservations.drain import drain_session
from reservations.holds import confirm_payment, expire_holds, reserve_units


def test_the_list_merges_postgres_and_live_holds(shopper, load_sale, clock, settings):
    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 600
    sale = load_sale(quantities=[5, 5, 5], limit=2)
    uid = shopper.user.pk
    paid = reserve_units(sale.id, sale.items[0].pk, user_id=uid, quantity=1, txn_id="A" * 26, now=clock.now())
    confirm_payment(sale.id, paid.txn_id, gateway_order_id="g", amount=paid.amount, now=clock.now())
    old = reserve_units(sale.id, sale.items[1].pk, user_id=uid, quantity=2, txn_id="B" * 26, now=clock.now())
    clock.advance(seconds=601)
    expire_holds(sale.id, now=clock.now())
    drain_session(sale.id)
    live = reserve_units(sale.id, sale.items[2].pk, user_id=uid, quantity=1, txn_id="C" * 26, now=clock.now())
    clock.advance(seconds=125)
    reserve_units(sale.id, sale.items[2].pk, user_id=uid + 1000, quantity=1, txn_id="D" * 26, now=clock.now())

    html = shopper.get(reverse("reservations-mine")).content.decode()

    assert html.count("<tr class=") == 3  # not the other shopper's
    assert "status-paid" in html and "status-expired" in html and "status-reserved" in html
    assert "7 min 55 s" in html  # 600 s minus the 125 s that passed
    assert "/checkout/?token=" in html
    assert sale.items[2].product.name in html and "Expired unpaid" in html and old.quantity == 2
    assert live.amount and "49.90 EUR" in html


def test_login_is_required(client, db):
    response = client.get(reverse("reservations-mine"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
