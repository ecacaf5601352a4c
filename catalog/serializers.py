"""The product record a provider delivers (push or pull), validated one record at a time."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from rest_framework import serializers

COORDINATE_STEP = Decimal("0.000001")  # the model keeps 6 decimal places (~0.1 m)


class CoordinateField(serializers.DecimalField):
    """A latitude/longitude in degrees; extra precision is rounded, not rejected."""

    def __init__(self, *, limit: int, **kwargs):
        super().__init__(
            max_digits=None, decimal_places=None, min_value=Decimal(-limit), max_value=Decimal(limit), **kwargs
        )

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return value.quantize(COORDINATE_STEP, rounding=ROUND_HALF_EVEN)


class ProductRecordSerializer(serializers.Serializer):
    """One product as providers send it. Unknown fields are ignored (and kept in ``raw``)."""

    external_id = serializers.CharField(max_length=200, help_text="The provider's own id; unique per provider.")
    name = serializers.CharField(max_length=300)
    description = serializers.CharField(allow_blank=True, required=False, default="", trim_whitespace=True)
    category = serializers.CharField(max_length=100, allow_blank=True, required=False, default="")
    image_url = serializers.URLField(max_length=1000, allow_blank=True, required=False, default="")
    price = serializers.DecimalField(
        source="list_price",
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        help_text="List price, at most 2 decimal places, greater than zero.",
    )
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        required=False,
        default="EUR",
        help_text="ISO 4217 code (default EUR).",
        error_messages={"invalid": "Use a three-letter ISO 4217 code such as EUR."},
    )
    latitude = CoordinateField(limit=90, help_text="Degrees, -90..90; rounded to 6 decimal places.")
    longitude = CoordinateField(limit=180, help_text="Degrees, -180..180; rounded to 6 decimal places.")
    place = serializers.CharField(max_length=200, allow_blank=True, required=False, default="", help_text="City.")
    active = serializers.BooleanField(
        source="is_active", required=False, default=True, help_text="false withdraws the product from sale."
    )

    def validate_currency(self, value: str) -> str:
        return value.upper()


# Model fields a record sets, in the order they are compared and written.
RECORD_FIELDS = (
    "name",
    "description",
    "category",
    "image_url",
    "list_price",
    "currency",
    "latitude",
    "longitude",
    "place",
    "is_active",
)


class RejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the record in the array, from 0.")
    external_id = serializers.CharField(allow_blank=True)
    # The rejection format's key shadows Serializer.errors.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Field name (or `non_field_errors`) to the messages of the ProductRecord rules the record breaks.",
    )


class PushResultSerializer(serializers.Serializer):
    """What the push API answers: the SyncRun's counts and every rejected record."""

    run = serializers.IntegerField(help_text="Id of the SyncRun that recorded this delivery.")
    status = serializers.ChoiceField(choices=["ok", "partial", "failed"])
    received = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = serializers.IntegerField()
    rejections = RejectionSerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
