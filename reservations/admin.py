"""Transactions in admin: read-only, since the drainer and the webhook are their only writers."""

from __future__ import annotations

from django.contrib import admin

from flashsale.view_only_admin import ViewOnlyAdmin
from reservations import admin_extensions  # noqa: F401 (replaces the sale-session admin)
from reservations.models import SentMail, Transaction


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    list_display = (
        "txn_id",
        "user",
        "session",
        "item",
        "quantity",
        "amount",
        "currency",
        "status",
        "paid_after_expiry",
        "reserved_at",
        "expires_at",
        "paid_at",
    )
    list_filter = ("status", "paid_after_expiry", "session")
    search_fields = ("txn_id", "user__username", "gateway_order_id")
    list_select_related = ("user", "session", "item__product")
    date_hierarchy = "reserved_at"
    ordering = ("-reserved_at",)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SentMail)
class SentMailAdmin(ViewOnlyAdmin):
    """The mails sent to shoppers (reservations/mails.py), one row each: a record, never edited."""

    list_display = ("sent_at", "kind", "key", "to")
    list_filter = ("kind",)
    search_fields = ("key", "to")
    date_hierarchy = "sent_at"
    ordering = ("-sent_at",)
