"""The peer's reservation: lock the stock row, check, decrement, insert the reservation row."""

from __future__ import annotations

from django.db import transaction

from bench.models import PeerReservation, PeerStock


def reserve_in_database(*, stock_id: int, user_id: int, quantity: int = 1) -> bool:
    """True when the units were reserved, False when the stock row has too few left."""
    with transaction.atomic():
        stock = PeerStock.objects.select_for_update().only("remaining").get(pk=stock_id)
        if stock.remaining < quantity:
            return False
        stock.remaining -= quantity
        stock.save(update_fields=["remaining"])
        PeerReservation.objects.create(stock_id=stock_id, user_id=user_id, quantity=quantity)
    return True
