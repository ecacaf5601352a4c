"""Sale sessions planned by operators, their items, and stock adjustments made while live."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from plans.exceptions import SessionLocked
from plans.states import SessionState


class SaleSession(models.Model):
    """A sale window and its items; ``state`` moves draft → scheduled → loaded → live → ended."""

    State = SessionState

    name = models.CharField(max_length=200)
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT, db_index=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    loaded_at = models.DateTimeField(null=True, blank=True)
    redis_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="When the ended session's Redis keys expire (final counts are kept here)."
    )
    final_timeline = models.JSONField(
        default=dict, blank=True, help_text="Reservations per minute, saved from Redis when the session ended."
    )
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

    def save(self, *args, **kwargs) -> None:
        _refuse_locked_change(self, SESSION_LOCKED_FIELDS, kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.pk is not None and session_was_locked(self.pk):
            raise SessionLocked(
                "A session that has been loaded cannot be deleted; cancel it instead.",
                session_id=self.pk,
                fields=("session",),
            )
        return super().delete(*args, **kwargs)

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The session must end after it starts."})

    @property
    def is_in_redis(self) -> bool:
        return self.state in {self.State.LOADED, self.State.LIVE}

    @property
    def is_locked(self) -> bool:
        """Window and quantities are frozen once the session has been copied into Redis."""
        return self.loaded_at is not None


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
        # The product as operators know it; how many are left is live data, shown where it is read.
        return str(self.product)

    def save(self, *args, **kwargs) -> None:
        if self.pk is None and session_was_locked(self.session_id):
            raise SessionLocked(
                "Items cannot be added to a session that is already loaded; it is locked.",
                session_id=self.session_id,
                fields=("items",),
            )
        _refuse_locked_change(self, ITEM_LOCKED_FIELDS, kwargs.get("update_fields"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if session_was_locked(self.session_id):
            raise SessionLocked(
                "Items cannot be removed from a session that is already loaded; withdraw units instead.",
                session_id=self.session_id,
                fields=("items",),
            )
        return super().delete(*args, **kwargs)


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


class ItemFinalCounts(models.Model):
    """An item's counts read from Redis when its session ended, kept after the Redis keys expire.

    Plain integers, not positive ones: a drifted figure is recorded as Redis had it, for the audit.
    """

    item = models.OneToOneField(SaleItem, on_delete=models.CASCADE, related_name="final_counts")
    allocated = models.PositiveIntegerField()
    adjusted = models.IntegerField(default=0)
    remaining = models.IntegerField(default=0)
    held = models.IntegerField(default=0)
    paid = models.IntegerField(default=0)
    returned = models.IntegerField(default=0)
    rejected_sold_out = models.IntegerField(default=0)
    rejected_limit = models.IntegerField(default=0)
    rejected_rate_limited = models.IntegerField(default=0)
    rejected_closed = models.IntegerField(default=0)
    returning = models.IntegerField(default=0)
    saved_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "item final counts"

    def __str__(self) -> str:
        return f"final counts of {self.item_id}"


SESSION_LOCKED_FIELDS = ("starts_at", "ends_at")
ITEM_LOCKED_FIELDS = ("product_id", "quantity")
LOCKED_MESSAGES = {
    "starts_at": "The window of a session that is already loaded cannot change.",
    "ends_at": "The window of a session that is already loaded cannot change.",
    "product_id": "The product of an item in a loaded session cannot change.",
    "quantity": "Quantities of a loaded session cannot change; use “Adjust stock” to add or withdraw units.",
}


def _refuse_locked_change(instance, fields: tuple[str, ...], update_fields) -> None:
    """Refuse a save that changes frozen fields of a loaded session (the last guard behind the forms).

    Reads the stored row, so a change made in memory (state included) cannot talk its way past.
    """
    if instance.pk is None:
        return
    if update_fields is not None and not {field.removesuffix("_id") for field in fields} & set(update_fields):
        return
    stored = type(instance)._default_manager.filter(pk=instance.pk).values(*fields).first()
    if stored is None:
        return
    changed = tuple(field for field in fields if stored[field] != getattr(instance, field))
    if not changed:
        return
    session_id = instance.pk if isinstance(instance, SaleSession) else instance.session_id
    if session_was_locked(session_id):
        raise SessionLocked(LOCKED_MESSAGES[changed[0]], session_id=session_id, fields=changed)


def session_was_locked(session_id: int) -> bool:
    """Whether the stored session has been loaded into Redis (whatever its state since)."""
    return SaleSession.objects.filter(pk=session_id, loaded_at__isnull=False).exists()
