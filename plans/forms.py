"""Operator forms: sessions, their items (admin inline) and stock adjustments, with plain-language errors."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from plans.models import ITEM_LOCKED_FIELDS, LOCKED_MESSAGES, SaleItem, SaleSession, session_was_locked
from plans.stock import ItemCounts, session_counts

ENDS_AFTER_START = "The session must end after it starts."
QUANTITY_AT_LEAST_ONE = "Quantity must be at least 1."
LIMIT_AT_LEAST_ONE = "The per-user limit must be at least 1."
PRICE_POSITIVE = "The sale price must be positive."
PRODUCT_ONCE = "This product is already in the session."
PRODUCT_REPEATED = "A product can be in a session only once; remove the repeated row."
PRODUCT_INACTIVE = "This product is no longer active in the catalog; pick another one."
NO_NEW_ITEMS = "Items cannot be added to a session that is already loaded; it is locked."
NO_REMOVED_ITEMS = "Items cannot be removed from a session that is already loaded; withdraw units with “Adjust stock”."


class SaleSessionForm(forms.ModelForm):
    class Meta:
        model = SaleSession
        fields = ["name", "starts_at", "ends_at", "notes"]

    def clean(self):
        cleaned = super().clean() or {}
        if self.instance.pk and session_was_locked(self.instance.pk):
            for field in ("starts_at", "ends_at"):
                if field in self.changed_data:
                    self.add_error(field, LOCKED_MESSAGES[field])
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", ENDS_AFTER_START)
        return cleaned


class SaleItemForm(forms.ModelForm):
    class Meta:
        model = SaleItem
        fields = ["product", "quantity", "sale_price", "currency", "per_user_limit", "display_order"]
        error_messages = {
            "quantity": {"min_value": QUANTITY_AT_LEAST_ONE},
            "per_user_limit": {"min_value": LIMIT_AT_LEAST_ONE},
            "sale_price": {"min_value": PRICE_POSITIVE},
        }
        # Narrow inputs keep the items inline within a laptop screen (widths in static/css/operator.css:
        # the Content-Security-Policy allows no style attribute).
        widgets = {
            "currency": forms.TextInput(attrs={"size": 4}),
            "quantity": forms.NumberInput(attrs={"class": "narrow-7"}),
            "per_user_limit": forms.NumberInput(attrs={"class": "narrow-5"}),
            "display_order": forms.NumberInput(attrs={"class": "narrow-4"}),
        }

    def clean_product(self):
        product = self.cleaned_data["product"]
        # Only a new choice is checked: an item keeps its product if the provider drops it later.
        if "product" in self.changed_data and not product.is_active:
            raise ValidationError(PRODUCT_INACTIVE)
        return product


class SaleItemFormSet(forms.BaseInlineFormSet):
    """The items of one session; refuses changes to quantities and products once it is loaded."""

    def clean(self):
        super().clean()
        if not (self.instance.pk and session_was_locked(self.instance.pk)):
            return
        for form in self.forms:
            if not form.has_changed():
                continue
            if self.can_delete and self._should_delete_form(form):  # type: ignore[attr-defined]  # BaseFormSet helper the stubs omit
                if form.instance.pk:
                    raise ValidationError(NO_REMOVED_ITEMS)
                continue
            if form.instance.pk is None:
                form.add_error(None, NO_NEW_ITEMS)
                continue
            for field in ITEM_LOCKED_FIELDS:
                name = field.removesuffix("_id")
                if name in form.changed_data:
                    form.add_error(name, LOCKED_MESSAGES[field])

    def get_unique_error_message(self, unique_check):
        return PRODUCT_REPEATED

    def get_form_error(self):
        return PRODUCT_ONCE


class ItemChoiceField(forms.ModelChoiceField):
    """A session's items, each named with what is on sale, held and paid now (Redis), not only what was allocated."""

    counts: dict[int, ItemCounts] = {}

    def label_from_instance(self, obj: SaleItem) -> str:
        found = self.counts.get(obj.pk)
        if found is None:
            return f"{obj} ({obj.quantity} allocated)"
        return f"{obj}: {found.remaining} on sale, {found.held} held, {found.paid} paid of {found.on_sale}"


class AdjustStockForm(forms.Form):
    item = ItemChoiceField(queryset=SaleItem.objects.none())
    delta = forms.IntegerField(
        label="Units",
        help_text="Positive to add units, negative to withdraw units still on sale.",
    )
    reason = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"size": 60}))

    def __init__(self, *args, session: SaleSession, **kwargs):
        super().__init__(*args, **kwargs)
        picker = self.fields["item"]
        assert isinstance(picker, ItemChoiceField)
        picker.queryset = session.items.select_related("product").order_by("display_order", "id")
        picker.counts = session_counts(session.pk) if session.is_in_redis else {}

    def clean_delta(self) -> int:
        delta = self.cleaned_data["delta"]
        limit = settings.FLASHSALE_MAX_ADJUSTMENT
        if delta == 0:
            raise ValidationError("Enter a number of units to add (positive) or withdraw (negative), not 0.")
        if abs(delta) > limit:
            raise ValidationError(f"One adjustment may add or withdraw at most {limit} units.")
        return delta
