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


def _row(html: str, status: str) -> str:
    """The table row of the (only) reservation in ``status``."""
    start = html.index(f'<tr class="status-{status} ')
    return html[start : html.index("</tr>", start)]


def test_every_way_a_reservation_ends_has_its_own_words_and_next_step(shopper, load_sale, clock, settings):
    """Paid, expired, cancelled, refused (another amount), paid too late (refund due), refunded, and held."""
    from reservations.holds import release_hold
    from reservations.models import Transaction

    settings.FLASHSALE_RESERVATION_TTL_SECONDS = 600
    sale = load_sale(quantities=[5] * 7, limit=1)
    uid = shopper.user.pk

    def hold(index: int, letter: str):
        return reserve_units(
            sale.id, sale.items[index].pk, user_id=uid, quantity=1, txn_id=letter * 26, now=clock.now()
        )

    paid = hold(0, "A")
    confirm_payment(sale.id, paid.txn_id, gateway_order_id="g-paid", amount=paid.amount, now=clock.now())
    cancelled = hold(1, "B")
    release_hold(sale.id, cancelled.txn_id, reason="cancelled", now=clock.now())
    refused = hold(2, "C")
    confirm_payment(sale.id, refused.txn_id, gateway_order_id="g-wrong", amount="1.00", now=clock.now())
    late, refunded, expired = hold(3, "D"), hold(4, "E"), hold(5, "F")
    clock.advance(seconds=601)
    expire_holds(sale.id, now=clock.now())
    for txn in (late, refunded):
        confirm_payment(sale.id, txn.txn_id, gateway_order_id=f"g-{txn.txn_id[0]}", amount=txn.amount, now=clock.now())
    drain_session(sale.id)
    stored = dict(Transaction.objects.values_list("txn_id", "status"))
    assert (stored[refused.txn_id], stored[late.txn_id], stored[expired.txn_id]) == (
        "refused",
        "paid_after_expiry",
        "expired",
    )
    # Reconciliation refunded one late payment: only PostgreSQL knows, and it wins over Redis.
    Transaction.objects.filter(txn_id=refunded.txn_id).update(status=Transaction.Status.REFUNDED)
    held = hold(6, "G")

    html = shopper.get(reverse("reservations-mine")).content.decode()

    expected = {
        "paid": ("Paid", "the units are yours"),
        "cancelled": ("Cancelled", "Nothing was charged"),
        "refused": ("Payment refused", "did not match your reservation"),
        "paid_after_expiry": ("Paid too late: refund due", "will be refunded in full"),
        "refunded": ("Refunded", "refunded in full"),
        "expired": ("Expired unpaid", "time to pay ran out"),
        "reserved": ("Awaiting payment", "Pay before the time runs out"),
    }
    for status, (label, meaning) in expected.items():
        row = _row(html, status)
        assert f'<span class="status-label">{label}</span>' in row, status
        assert meaning in row, status
    # A running hold: its deadline, "Pay now" and "Cancel"; nothing else offers either.
    running = _row(html, "reserved")
    assert "Pay within" in running and "/checkout/?token=" in running and ">Cancel</button>" in running
    assert reverse("reservations-cancel", args=[sale.id, held.txn_id]) in running
    for status in set(expected) - {"reserved"}:
        row = _row(html, status)
        assert "Pay now" not in row and "Cancel</button>" not in row, status
        # The sale is still on: going back to it is the next step.
        assert "Back to the sale" in row, status


def test_after_the_sale_an_ended_reservation_offers_nothing_to_do(shopper, load_sale, clock):
    sale = load_sale(quantities=[5])
    held = reserve_units(sale.id, sale.item.pk, user_id=shopper.user.pk, quantity=1, txn_id="H" * 26, now=clock.now())
    confirm_payment(sale.id, held.txn_id, gateway_order_id="g", amount=held.amount, now=clock.now())
    clock.advance(hours=2)

    row = _row(shopper.get(reverse("reservations-mine")).content.decode(), "paid")
    assert "Back to the sale" not in row and "Nothing to do." in row
