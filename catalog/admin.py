"""Operator UI for the catalog: providers (keys, sync now), their sync runs and rejections, products."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models
from django.db.models import Count
from django.forms.models import BaseInlineFormSet
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from catalog.keys import issue_key
from catalog.models import Product, Provider, SyncRejection, SyncRun
from catalog.tasks import sync_provider

logger = logging.getLogger(__name__)


def _errors_text(errors: dict) -> str:
    return "; ".join(
        f"{field}: {' '.join(map(str, problems)) if isinstance(problems, list) else problems}"
        for field, problems in (errors or {}).items()
    )


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class _RecentRunsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        # A provider synced every minute has thousands of runs: show the latest few only.
        return super().get_queryset()[: settings.CATALOG_ADMIN_RECENT_RUNS]


class RecentSyncRunInline(_ReadOnlyInline):
    model = SyncRun
    formset = _RecentRunsFormSet
    verbose_name_plural = "recent sync runs"
    fields = (
        "started_at",
        "trigger",
        "status",
        "created_count",
        "updated_count",
        "unchanged_count",
        "rejected_count",
        "deactivated_count",
        "error",
    )
    readonly_fields = fields
    ordering = ("-started_at",)


class _FirstRejectionsFormSet(BaseInlineFormSet):
    def get_queryset(self):
        return super().get_queryset()[:200]


class SyncRejectionInline(_ReadOnlyInline):
    model = SyncRejection
    formset = _FirstRejectionsFormSet
    verbose_name_plural = "rejected records (first 200)"
    fields = ("index", "external_id", "errors_text", "record_text")
    readonly_fields = fields
    show_change_link = False

    @admin.display(description="errors")
    def errors_text(self, obj: SyncRejection) -> str:
        return _errors_text(obj.errors)

    @admin.display(description="record")
    def record_text(self, obj: SyncRejection) -> str:
        return json.dumps(obj.record, ensure_ascii=False)[:500]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "delivery",
        "feed_format",
        "is_active",
        "product_count",
        "last_sync_state",
        "last_synced_at",
        "sync_interval",
    )
    list_filter = ("delivery", "is_active", "last_sync_state")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("api_key", "last_synced_at", "last_attempt_at", "last_sync_state", "rejections_link")
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_active")}),
        ("Delivery", {"fields": ("delivery", "feed_url", "feed_format", "sync_interval", "api_key")}),
        ("Last sync", {"fields": ("last_sync_state", "last_synced_at", "last_attempt_at", "rejections_link")}),
    )
    inlines = [RecentSyncRunInline]
    actions = ["sync_now", "issue_api_key"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_product_count=Count("products"))

    @admin.display(description="products", ordering="_product_count")
    def product_count(self, obj: Provider) -> int:
        return int(getattr(obj, "_product_count", 0))  # annotated by get_queryset

    @admin.display(description="API key")
    def api_key(self, obj: Provider) -> str:
        if obj.api_key_hash:
            return "Set (only its hash is stored). Use the “Issue a new API key” action to replace it."
        return "None yet. Use the “Issue a new API key” action or `manage.py provider_key SLUG`."

    @admin.display(description="latest rejections")
    def rejections_link(self, obj: Provider) -> str:
        if obj.pk is None:
            return "-"
        latest = (
            SyncRejection.objects.filter(run__provider=obj)
            .select_related("run")
            .order_by("-run__started_at", "index")[: settings.CATALOG_ADMIN_RECENT_RUNS]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>#{}</td><td>{}</td><td>{}</td></tr>",
            (
                (f"{r.run.started_at:%Y-%m-%d %H:%M}", r.index, r.external_id or "-", _errors_text(r.errors))
                for r in latest
            ),
        )
        url = reverse("admin:catalog_syncrejection_changelist") + f"?run__provider__id__exact={obj.pk}"
        link = format_html('<a href="{}">All rejected records of this provider</a>', url)
        if not rows:
            return format_html("None. {}", link)
        return format_html(
            "<table><tr><th>run</th><th>record</th><th>external id</th><th>errors</th></tr>{}</table>{}", rows, link
        )

    @admin.action(description="Sync now (pull the feed)")
    def sync_now(self, request, queryset):
        pull = list(queryset.filter(delivery=Provider.Delivery.PULL))
        for provider in pull:
            sync_provider.delay(provider.pk, SyncRun.Trigger.OPERATOR)
        if pull:
            names = ", ".join(p.slug for p in pull)
            logger.info("catalog: %s queued a pull of %s", request.user.get_username(), names)
            self.message_user(request, f"Queued a pull for {names}. Its sync run appears below when done.")
        skipped = queryset.exclude(delivery=Provider.Delivery.PULL).count()
        if skipped:
            self.message_user(
                request, f"Skipped {skipped} push provider(s): they deliver through the API.", messages.WARNING
            )

    @admin.action(description="Issue a new API key (the old one stops working)")
    def issue_api_key(self, request, queryset):
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Issue new API keys?",
                "providers": queryset,
                "opts": self.model._meta,
                "action": "issue_api_key",
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "catalog/admin/confirm_issue_key.html", context)
        for provider in queryset:
            key = issue_key(provider)
            # Shown once: only the hash is stored, so this message is the only copy.
            self.message_user(
                request, f"New API key for {provider.slug} (copy it now, it is not stored): {key}", messages.WARNING
            )


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = (
        "started_at",
        "provider",
        "trigger",
        "status",
        "created_count",
        "updated_count",
        "unchanged_count",
        "rejected_count",
        "deactivated_count",
        "finished_at",
    )
    list_filter = ("status", "trigger", "provider")
    list_select_related = ("provider",)
    search_fields = ("provider__name", "provider__slug", "error")
    date_hierarchy = "started_at"
    inlines = [SyncRejectionInline]
    readonly_fields = [field.name for field in SyncRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SyncRejection)
class SyncRejectionAdmin(admin.ModelAdmin):
    list_display = ("run", "provider_name", "index", "external_id", "errors")
    list_filter = ("run__provider",)
    list_select_related = ("run__provider",)
    search_fields = ("external_id",)
    readonly_fields = ("run", "index", "external_id", "errors", "record")

    @admin.display(description="provider", ordering="run__provider__name")
    def provider_name(self, obj: SyncRejection) -> str:
        return obj.run.provider.name

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    # Price and currency in one column: the list fits beside the filters at 1280 px.
    list_display = ("name", "provider", "external_id", "place", "category", "price", "is_active")
    list_filter = ("is_active", "provider", "place", "category")
    list_select_related = ("provider",)
    search_fields = ("name", "external_id", "place", "category", "provider__name")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    show_full_result_count = False  # skip the second COUNT(*) on a large catalog
    readonly_fields = ("provider", "external_id", "raw_record", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("provider", "external_id", "name", "description", "category", "image_url")}),
        ("Price", {"fields": ("list_price", "currency")}),
        ("Location", {"fields": ("place", "latitude", "longitude")}),
        ("State", {"fields": ("is_active", "created_at", "updated_at")}),
        ("As delivered", {"fields": ("raw_record",)}),
    )

    @admin.display(description="list price", ordering="list_price")
    def price(self, obj: Product) -> str:
        return f"{obj.list_price} {obj.currency}" if obj.list_price is not None else "—"

    @admin.display(description="raw record")
    def raw_record(self, obj: Product) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.raw, indent=2, ensure_ascii=False))

    def has_add_permission(self, request) -> bool:
        # Products come from providers (push or pull), not from operators.
        return False
