"""Every reservation, persisted from the Redis stream by the drainer."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from reservations.states import (
    ACTIVE_STATUSES,
    REFUND_DUE_STATUSES,
    REFUNDABLE_STATUSES,
    STATUS_MAX_LENGTH,
    ReservationStatus,
)


class TransactionQuerySet(models.QuerySet["Transaction"]):
    """The SQL side's questions about reservations (the Redis side shares ``reservations.states``)."""

    def active(self) -> TransactionQuerySet:
        """Reservations whose units are taken: held awaiting payment, or paid."""
        return self.filter(status__in=ACTIVE_STATUSES)

    def paid(self) -> TransactionQuerySet:
        return self.filter(status=ReservationStatus.PAID)

    def refundable(self) -> TransactionQuerySet:
        """Reservations whose whole payment a refund gives back: paid, refused or paid too late."""
        return self.filter(status__in=REFUNDABLE_STATUSES)

    def refund_due(self) -> TransactionQuerySet:
        """Money taken for units the shopper does not keep (refused or late payments), not refunded yet."""
        return self.filter(status__in=REFUND_DUE_STATUSES)

    def of_user(self, user_id: int) -> TransactionQuerySet:
        return self.filter(user_id=user_id)

    def in_session(self, session_id: int) -> TransactionQuerySet:
        return self.filter(session_id=session_id)

    def reserved_between(self, start: datetime, end: datetime) -> TransactionQuerySet:
        """Reserved in [start, end): a day of the reconciliation."""
        return self.filter(reserved_at__gte=start, reserved_at__lt=end)


class Transaction(models.Model):
    Status = ReservationStatus

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
    status = models.CharField(
        max_length=STATUS_MAX_LENGTH, choices=Status.choices, default=Status.RESERVED, db_index=True
    )
    token = models.TextField(blank=True)
    entered_at = models.DateTimeField(null=True, blank=True, help_text="When the shopper opened the sale page.")
    reserved_at = models.DateTimeField()
    redirected_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_after_expiry = models.BooleanField(default=False)
    gateway_order_id = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TransactionQuerySet.as_manager()

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


class SentMail(models.Model):
    """A mail sent to a shopper, recorded so that a task run twice sends it once (``reservations.mails``)."""

    class Kind(models.TextChoices):
        RESERVED = "reserved", "Reservation made"
        PAID = "paid", "Payment confirmed"
        REFUNDED = "refunded", "Refund made"
        TURN = "turn", "It is your turn"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(
        max_length=100, help_text="What the mail is about: a TransactionID, or session:user:instant."
    )
    to = models.EmailField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "key"], name="reservations_sent_mail_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} to {self.to}"
