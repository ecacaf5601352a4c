"""Every reservation, persisted from the Redis stream by the drainer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Transaction(models.Model):
    class Status(models.TextChoices):
        RESERVED = "reserved", "Reserved, awaiting payment"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired unpaid"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    txn_id = models.CharField("TransactionID", max_length=26, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="transactions")
    session = models.ForeignKey("plans.SaleSession", on_delete=models.PROTECT, related_name="transactions")
    item = models.ForeignKey("plans.SaleItem", on_delete=models.PROTECT, related_name="transactions")
    units = models.JSONField(default=list, help_text="The unit ids popped from the stock list.")
    quantity = models.PositiveIntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RESERVED, db_index=True)
    token = models.TextField(blank=True)
    entered_at = models.DateTimeField(null=True, blank=True, help_text="When the shopper opened the sale page.")
    reserved_at = models.DateTimeField()
    redirected_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_after_expiry = models.BooleanField(default=False)
    gateway_order_id = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-reserved_at"]
        indexes = [
            models.Index(fields=["session", "item", "status"]),
            models.Index(fields=["user", "-reserved_at"]),
            models.Index(fields=["reserved_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="reservations_txn_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.txn_id} {self.status}"
