"""stock.json: remaining units per item and the shopper's own counts, from Redis alone."""

from __future__ import annotations

from django.urls import reverse

from reservations.stock import reserve_units


def test_the_poll_reports_remaining_units_and_yours(shopper, load_sale, clock):
    sale = load_sale(quantities=[4, 2], limit=2)
    reserve_units(sale.id, sale.items[0].pk, user_id=shopper.user.pk, quantity=2, txn_id="A" * 26, now=clock.now())
    response = shopper.get(reverse("reservations-stock", args=[sale.id]))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    data = response.json()
    assert data["items"] == {
        str(sale.items[0].pk): {"remaining": 2, "yours": 2},
        str(sale.items[1].pk): {"remaining": 2, "yours": 0},
    }
    assert data["ends_at"] == sale.session.ends_at.timestamp()


def test_unknown_session_is_404_json(client, db):
    response = client.get(reverse("reservations-stock", args=[999]))
    assert response.status_code == 404 and response.json() == {"error": "not_found"}
