"""Sale sessions planned by operators, their items, and stock adjustments made while live."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q


class SaleSession(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        LOADED = "loaded", "Loaded into Redis"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=200)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT, db_index=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    loaded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")),
                name="plans_session_ends_after_start",
                violation_error_message="The session must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.starts_at:%Y-%m-%d %H:%M})"

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The session must end after it starts."})

    @property
    def is_in_redis(self) -> bool:
        return self.state in {self.State.LOADED, self.State.LIVE}


class SaleItem(models.Model):
    session = models.ForeignKey(SaleSession, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="sale_items")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    sale_price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, default="EUR")
    per_user_limit = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    display_order = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["session", "display_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "product"],
                name="plans_item_product_once_per_session",
                violation_error_message="This product is already in the session.",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1),
                name="plans_item_quantity_positive",
                violation_error_message="Quantity must be at least 1.",
            ),
            models.CheckConstraint(
                condition=Q(per_user_limit__gte=1),
                name="plans_item_limit_positive",
                violation_error_message="The per-user limit must be at least 1.",
            ),
            models.CheckConstraint(
                condition=Q(sale_price__gt=0),
                name="plans_item_price_positive",
                violation_error_message="The sale price must be positive.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} × {self.quantity}"


class Adjustment(models.Model):
    """Units added (positive delta) or withdrawn (negative) from a loaded or live item."""

    item = models.ForeignKey(SaleItem, on_delete=models.PROTECT, related_name="adjustments")
    delta = models.IntegerField()
    reason = models.CharField(max_length=300)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(delta=0), name="plans_adjustment_delta_nonzero"),
        ]

    def __str__(self) -> str:
        return f"{self.delta:+d} {self.item}"
