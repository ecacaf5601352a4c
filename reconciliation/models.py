"""Reconciliation runs of a day against the payment gateway, their discrepancies and compensations."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from reservations.states import STATUS_MAX_LENGTH


class ReconciliationRun(models.Model):
    """One comparison of a day's transactions with the gateway's orders of that day.

    Re-running a day never replaces a run: the new run links to the latest earlier run of the
    same period (``previous_run``).
    """

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        CLEAN = "clean", "Clean"
        DISCREPANCIES = "discrepancies", "Discrepancies found"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        SCHEDULE = "schedule", "Daily schedule"
        ADMIN = "admin", "Operator (admin)"
        COMMAND = "command", "Command line"
        BENCHMARK = "benchmark", "Benchmark"

    period = models.DateField(db_index=True, help_text="The UTC day reconciled.")
    status = models.CharField(max_length=15, choices=Status.choices, default=Status.RUNNING, db_index=True)
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.SCHEDULE)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    previous_run = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reruns",
        help_text="The earlier run of the same day this one re-checks.",
    )
    gateway = models.CharField(max_length=30, default="sandbox")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    currency = models.CharField(max_length=5, blank=True, help_text="Currency of the totals ('MIX' if several).")
    our_count = models.PositiveIntegerField(default=0, help_text="Our transactions reserved that day.")
    our_paid_count = models.PositiveIntegerField(default=0)
    our_paid_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    their_count = models.PositiveIntegerField(default=0, help_text="Orders the gateway listed for that day.")
    their_paid_count = models.PositiveIntegerField(default=0)
    their_paid_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    matched_count = models.PositiveIntegerField(default=0)
    matched_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    mismatched_amount = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    discrepancy_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-period", "-started_at"]
        indexes = [models.Index(fields=["period", "-started_at"])]

    def __str__(self) -> str:
        return f"Reconciliation of {self.period} #{self.pk}"


class Discrepancy(models.Model):
    class Kind(models.TextChoices):
        MISSING_AT_GATEWAY = "missing_at_gateway", "Paid here, missing at the gateway"
        MISSING_HERE = "missing_here", "Paid at the gateway, not paid here"
        UNIT_MISMATCH = "unit_mismatch", "Unit count mismatch"
        AMOUNT_MISMATCH = "amount_mismatch", "Amount mismatch"
        PAID_AFTER_EXPIRY = "paid_after_expiry", "Paid after the hold expired"
        PAID_TWICE = "paid_twice", "Paid twice"

    class Resolution(models.TextChoices):
        OPEN = "open", "Open"
        COMPENSATED = "compensated", "Compensated"
        DISMISSED = "dismissed", "Dismissed"

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="discrepancies")
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    txn_id = models.CharField("TransactionID", max_length=100, db_index=True)
    gateway_order_id = models.CharField(max_length=100, blank=True)
    our_status = models.CharField(
        max_length=STATUS_MAX_LENGTH, blank=True, help_text="Our transaction's status ('' if absent)."
    )
    our_value = models.CharField(max_length=200, blank=True, help_text="What our records say.")
    their_value = models.CharField(max_length=200, blank=True, help_text="What the gateway says.")
    amount = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("0"), help_text="Money at stake in this discrepancy."
    )
    currency = models.CharField(max_length=3, blank=True)
    session_id = models.IntegerField(null=True, blank=True)
    item_id = models.IntegerField(null=True, blank=True)
    quantity = models.PositiveIntegerField(default=0, help_text="Units our transaction holds.")
    resolution = models.CharField(max_length=12, choices=Resolution.choices, default=Resolution.OPEN, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["run", "kind", "txn_id"]
        verbose_name_plural = "discrepancies"
        constraints = [
            models.UniqueConstraint(
                fields=["run", "kind", "txn_id", "gateway_order_id"], name="reconciliation_discrepancy_once_per_run"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.txn_id}"


class Compensation(models.Model):
    """A refund through the gateway or units given back to stock, done once per discrepancy and kind."""

    class Kind(models.TextChoices):
        REFUND = "refund", "Refund through the gateway"
        INVENTORY = "inventory", "Inventory adjustment"

    class State(models.TextChoices):
        DONE = "done", "Done"
        RETRYING = "retrying", "Failed, will be retried"
        NEEDS_OPERATOR = "needs_operator", "Needs an operator"

    discrepancy = models.ForeignKey(Discrepancy, on_delete=models.PROTECT, related_name="compensations")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    txn_id = models.CharField("TransactionID", max_length=100, db_index=True)
    gateway_order_id = models.CharField(max_length=100, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, blank=True)
    units = models.IntegerField(default=0, help_text="Units given back to stock (inventory adjustments).")
    automatic = models.BooleanField(default=False, help_text="Done by the reconciliation run, not an operator.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    detail = models.CharField(max_length=300, blank=True)
    # A refund the gateway did not take is kept and tried again (idempotent at the gateway) until it
    # is done or, after FLASHSALE_REFUND_MAX_ATTEMPTS or a refusal, left to an operator.
    state = models.CharField(max_length=15, choices=State.choices, default=State.DONE, db_index=True)
    attempts = models.PositiveIntegerField(default=1, help_text="Times the gateway was asked.")
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="When beat tries a failed refund again.")
    last_error = models.CharField(max_length=300, blank=True, help_text="What the gateway said last time it failed.")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["discrepancy", "kind"], name="reconciliation_compensation_once"),
            # The same money or units are never given back twice, even from a re-run's discrepancy.
            models.UniqueConstraint(
                fields=["txn_id", "kind", "gateway_order_id"], name="reconciliation_compensation_once_per_txn"
            ),
            models.CheckConstraint(condition=Q(units__gte=0), name="reconciliation_compensation_units_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.txn_id}"


class GatewayOrderSnapshot(models.Model):
    """The gateway's orders of a run's day, staged while matching and deleted when the run ends."""

    run = models.ForeignKey(ReconciliationRun, on_delete=models.CASCADE, related_name="+")
    order_id = models.CharField(max_length=100)
    txn_id = models.CharField(max_length=100)
    status = models.CharField(max_length=20)
    quantity = models.IntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)

    class Meta:
        indexes = [models.Index(fields=["run", "txn_id", "order_id"])]

    def __str__(self) -> str:
        return f"{self.order_id} ({self.txn_id})"
