"""Our own copy of the providers' catalog: providers, products and each delivery (SyncRun)."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Provider(models.Model):
    class Delivery(models.TextChoices):
        PUSH = "push", "Push (provider calls our API)"
        PULL = "pull", "Pull (we fetch their feed)"

    class FeedFormat(models.TextChoices):
        JSON = "json", "JSON"
        CSV = "csv", "CSV"

    class SyncState(models.TextChoices):
        NEVER = "never", "Never synced"
        OK = "ok", "OK"
        PARTIAL = "partial", "Some records rejected"
        FAILED = "failed", "Failed"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    delivery = models.CharField(max_length=10, choices=Delivery.choices, default=Delivery.PUSH)
    feed_url = models.URLField(blank=True, max_length=1000)
    feed_format = models.CharField(max_length=10, choices=FeedFormat.choices, default=FeedFormat.JSON)
    api_key_hash = models.CharField(max_length=200, blank=True, editable=False)
    is_active = models.BooleanField(default=True)
    sync_interval = models.DurationField(null=True, blank=True, help_text="How often a pull feed is fetched.")
    last_synced_at = models.DateTimeField(null=True, blank=True)
    # When a pull was last started (successful or not): the schedule counts the interval from
    # here, so a broken feed is retried on its interval instead of every minute.
    last_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_sync_state = models.CharField(max_length=10, choices=SyncState.choices, default=SyncState.NEVER)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(delivery="pull") | ~Q(feed_url=""),
                name="catalog_provider_pull_needs_feed_url",
                violation_error_message="A pull provider needs a feed URL.",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="products")
    external_id = models.CharField(max_length=200)
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=100, blank=True, db_index=True)
    image_url = models.URLField(blank=True, max_length=1000)
    list_price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])
    currency = models.CharField(max_length=3, default="EUR")
    latitude = models.DecimalField(
        max_digits=9, decimal_places=6, validators=[MinValueValidator(-90), MaxValueValidator(90)]
    )
    longitude = models.DecimalField(
        max_digits=9, decimal_places=6, validators=[MinValueValidator(-180), MaxValueValidator(180)]
    )
    place = models.CharField(max_length=200, blank=True, db_index=True, help_text="City or place name.")
    is_active = models.BooleanField(default=True)
    raw = models.JSONField(default=dict, blank=True, help_text="The record as the provider sent it.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "external_id"], name="catalog_product_unique_external_id"),
            models.CheckConstraint(condition=Q(list_price__gt=0), name="catalog_product_price_positive"),
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="catalog_product_location_valid",
            ),
        ]

    def __str__(self) -> str:
        # Names often carry their city already ("Spa day (Paris)"): never "(Paris) (Paris)".
        if not self.place or self.name.endswith(f"({self.place})"):
            return self.name
        return f"{self.name} ({self.place})"


class SyncRun(models.Model):
    class Trigger(models.TextChoices):
        PUSH = "push", "Push"
        SCHEDULE = "schedule", "Schedule"
        OPERATOR = "operator", "Operator"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "OK"
        PARTIAL = "partial", "Some records rejected"
        FAILED = "failed", "Failed"

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="sync_runs")
    trigger = models.CharField(max_length=10, choices=Trigger.choices)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    deactivated_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["provider", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.provider} {self.trigger} {self.started_at:%Y-%m-%d %H:%M}"


class SyncRejection(models.Model):
    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="rejections")
    index = models.PositiveIntegerField(help_text="Position of the record in the delivery.")
    external_id = models.CharField(max_length=200, blank=True)
    errors = models.JSONField(default=dict)
    record = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]

    def __str__(self) -> str:
        return f"#{self.index} {self.external_id}"
