"""The peer: stock and reservations kept in PostgreSQL, the way Django shops usually do it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PeerStock(models.Model):
    """One item's stock row; every reservation locks it with SELECT ... FOR UPDATE."""

    name = models.CharField(max_length=100)
    allocated = models.PositiveIntegerField()
    remaining = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.name}: {self.remaining}/{self.allocated}"


class PeerReservation(models.Model):
    stock = models.ForeignKey(PeerStock, on_delete=models.CASCADE, related_name="reservations")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.quantity} × {self.stock_id} for {self.user_id}"
