"""The operators' interface to sale sessions: planning, publishing to Redis, live stock, adjustments."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.html import format_html

from catalog.models import Product
from flashsale.view_only_admin import ViewOnlyAdmin
from plans.adjusting import adjust_stock
from plans.exceptions import PlansError
from plans.forms import AdjustStockForm, SaleItemForm, SaleItemFormSet, SaleSessionForm
from plans.live import live_snapshot
from plans.loading import load_session_into_redis
from plans.models import ITEM_LOCKED_FIELDS, SESSION_LOCKED_FIELDS, Adjustment, SaleItem, SaleSession
from plans.stock import counts_for_items, session_totals
from plans.transitions import cancel_session, schedule_session

State = SaleSession.State
DAYS_IN_FILTER = 31


def product_autocomplete_ready(admin_site) -> bool:
    """Whether ``admin_site`` has a ProductAdmin with search_fields, which autocomplete needs.

    Until the catalog registers one, the inline falls back to a raw id field rather than failing.
    """
    if not admin_site.is_registered(Product):
        return False
    return bool(admin_site.get_model_admin(Product).search_fields)


class SaleItemInline(admin.TabularInline):
    model = SaleItem
    form = SaleItemForm
    formset = SaleItemFormSet
    fields = ("product", "quantity", "sale_price", "currency", "per_user_limit", "display_order")
    ordering = ("display_order", "id")

    def get_extra(self, request, obj=None, **kwargs):
        return 0 if obj is not None and obj.is_locked else 3

    def get_readonly_fields(self, request, obj=None):
        # A loaded session's products and quantities show as text: they would only fail on save.
        if obj is not None and obj.is_locked:
            return tuple(field.removesuffix("_id") for field in ITEM_LOCKED_FIELDS)
        return super().get_readonly_fields(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not (obj is not None and obj.is_locked) and super().has_delete_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return not (obj is not None and obj.is_locked) and super().has_add_permission(request, obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")

    def get_autocomplete_fields(self, request):
        return ("product",) if product_autocomplete_ready(self.admin_site) else ()

    def get_raw_id_fields(self, request):
        return () if product_autocomplete_ready(self.admin_site) else ("product",)


class DayListFilter(admin.SimpleListFilter):
    title = "day"
    parameter_name = "day"

    def lookups(self, request, model_admin):
        days = (
            SaleSession.objects.annotate(day=TruncDate("starts_at"))
            .values_list("day", flat=True)
            .distinct()
            .order_by("-day")[:DAYS_IN_FILTER]
        )
        return [(day.isoformat(), day.strftime("%a %d %b %Y")) for day in days]

    def queryset(self, request, queryset):
        day = parse_date(self.value() or "")
        return queryset.filter(starts_at__date=day) if day else queryset


class SessionChangeList(ChangeList):
    """Reads the page's live figures from Redis in one pipelined round trip, not per row."""

    def get_results(self, request):
        super().get_results(request)
        self.result_list = list(self.result_list)
        attach_live_totals(self.result_list)


def attach_live_totals(sessions: list[SaleSession]) -> None:
    in_redis = [session.pk for session in sessions if session.is_in_redis]
    pairs = list(SaleItem.objects.filter(session__in=in_redis).values_list("session_id", "pk"))
    counts = counts_for_items(pairs)
    for session in sessions:
        found = [c for (session_id, _), c in counts.items() if session_id == session.pk]
        # Read by the list columns through _live(); not a model field, hence setattr.
        setattr(session, "live_totals", session_totals(found) if found else None)  # noqa: B010


@admin.register(SaleSession)
class SaleSessionAdmin(admin.ModelAdmin):
    form = SaleSessionForm
    inlines = [SaleItemInline]
    list_display = (
        "name",
        "window",
        "state",
        "item_count",
        "units_allocated",
        "units_remaining",
        "units_held",
        "units_paid",
        "live_link",
    )
    list_filter = ("state", DayListFilter)
    date_hierarchy = "starts_at"
    search_fields = ("name", "items__product__name")
    readonly_fields = ("state", "loaded_at", "redis_expires_at", "created_by", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "starts_at", "ends_at", "notes")}),
        ("Status", {"fields": readonly_fields}),
    )

    def get_readonly_fields(self, request, obj=None):
        # A loaded session's window shows as text, with the reason (get_fieldsets): editing it would only fail on save.
        if obj is not None and obj.is_locked:
            return (*SESSION_LOCKED_FIELDS, *self.readonly_fields)
        return self.readonly_fields

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            # A new session has no status yet: no empty "Status" block on the add form.
            return ((None, {"fields": ("name", "starts_at", "ends_at", "notes")}),)
        if obj.is_locked:
            reason = (
                f"The window is locked: this session is {obj.get_state_display().lower()}, so its window, "
                "products and quantities can no longer change. Add or withdraw units with “Adjust stock”; "
                "the name, notes, prices and per-user limits can still change."
            )
            return (
                (None, {"fields": ("name", "starts_at", "ends_at", "notes"), "description": reason}),
                self.fieldsets[1],
            )
        return self.fieldsets

    actions = ["schedule_selected", "load_selected", "cancel_selected", "adjust_stock_action"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(item_count=Count("items", distinct=True), units_allocated=Sum("items__quantity"))
        )

    def get_changelist(self, request, **kwargs):
        return SessionChangeList

    # --- list columns -----------------------------------------------------------------------

    @admin.display(description=f"window ({settings.TIME_ZONE})", ordering="starts_at")
    def window(self, obj: SaleSession) -> str:
        # In the site's time zone, as every time in the back office (named in the column's title).
        starts, ends = timezone.localtime(obj.starts_at), timezone.localtime(obj.ends_at)
        return f"{starts:%d %b %H:%M}–{ends:%H:%M}"

    @admin.display(description="items", ordering="item_count")
    def item_count(self, obj: SaleSession) -> int:
        return int(getattr(obj, "item_count", 0))  # annotated by get_queryset

    @admin.display(description="allocated", ordering="units_allocated")
    def units_allocated(self, obj: SaleSession) -> int:
        return int(getattr(obj, "units_allocated", 0) or 0)  # annotated by get_queryset

    def _live(self, obj: SaleSession, field: str):
        totals = getattr(obj, "live_totals", None)
        return getattr(totals, field) if totals is not None else "–"

    @admin.display(description="left")
    def units_remaining(self, obj: SaleSession):
        return self._live(obj, "remaining")

    @admin.display(description="held")
    def units_held(self, obj: SaleSession):
        return self._live(obj, "held")

    @admin.display(description="paid")
    def units_paid(self, obj: SaleSession):
        return self._live(obj, "paid")

    @admin.display(description="live")
    def live_link(self, obj: SaleSession) -> str:
        return format_html('<a href="{}">live</a>', reverse("admin:plans_salesession_live", args=[obj.pk]))

    # --- editing ----------------------------------------------------------------------------

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_locked:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        session = form.instance
        if session.is_in_redis:
            # Prices, limits and names may change while loaded: copy them to Redis now.
            try:
                load_session_into_redis(session)
            except PlansError as exc:
                self.message_user(request, exc.message, messages.WARNING)
            else:
                self.message_user(request, "Display data refreshed in Redis.", messages.INFO)

    def delete_queryset(self, request, queryset):
        locked = [session for session in queryset if session.is_locked]
        if locked:
            self.message_user(request, "Loaded sessions cannot be deleted; cancel them instead.", messages.ERROR)
            queryset = queryset.exclude(pk__in=[session.pk for session in locked])
        super().delete_queryset(request, queryset)

    # --- actions ----------------------------------------------------------------------------

    def _confirmed(self, request, queryset, *, action: str, title: str, question: str):
        """None once the operator confirmed; else the confirmation page to show."""
        if request.POST.get("post") == "yes":
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "question": question,
            "queryset": queryset,
            "action": action,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/plans/salesession/action_confirmation.html", context)

    def _apply(self, request, queryset, operation, *, done: str) -> None:
        succeeded = []
        for session in queryset:
            try:
                outcome = operation(session)
            except PlansError as exc:
                self.message_user(request, f"{session.name}: {exc.message}", messages.ERROR)
            else:
                succeeded.append(outcome)
        if succeeded:
            self.message_user(request, f"{done}: {'; '.join(succeeded)}", messages.SUCCESS)

    @admin.action(description="Schedule selected sessions", permissions=["change"])
    def schedule_selected(self, request, queryset):
        page = self._confirmed(
            request,
            queryset,
            action="schedule_selected",
            title="Schedule sessions",
            question="Schedule these sessions? Each is loaded into Redis shortly before it opens.",
        )
        if page is not None:
            return page
        self._apply(request, queryset, lambda s: schedule_session(s).name, done="Scheduled")
        return None

    @admin.action(description="Load selected sessions into Redis now", permissions=["change"])
    def load_selected(self, request, queryset):
        page = self._confirmed(
            request,
            queryset,
            action="load_selected",
            title="Load sessions into Redis",
            question="Load these sessions into Redis now? Their window and quantities are then locked.",
        )
        if page is not None:
            return page
        self._apply(request, queryset, lambda s: load_session_into_redis(s).describe(), done="Loaded")
        return None

    @admin.action(description="Cancel selected sessions", permissions=["change"])
    def cancel_selected(self, request, queryset):
        page = self._confirmed(
            request,
            queryset,
            action="cancel_selected",
            title="Cancel sessions",
            question="Cancel these sessions? Shoppers can no longer reserve in them. This cannot be undone.",
        )
        if page is not None:
            return page
        self._apply(request, queryset, lambda s: cancel_session(s).name, done="Cancelled")
        return None

    @admin.action(description="Adjust stock of the selected session", permissions=["change"])
    def adjust_stock_action(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one session to adjust its stock.", messages.ERROR)
            return None
        return HttpResponseRedirect(reverse("admin:plans_salesession_adjust", args=[queryset.get().pk]))

    # --- extra pages ------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:session_id>/live/", wrap(self.live_view), name="plans_salesession_live"),
            path("<int:session_id>/live/data/", wrap(self.live_data_view), name="plans_salesession_live_data"),
            path("<int:session_id>/adjust/", wrap(self.adjust_view), name="plans_salesession_adjust"),
            *super().get_urls(),
        ]

    def _session_for(self, request, session_id: int, *, change: bool = False) -> SaleSession:
        session = get_object_or_404(SaleSession, pk=session_id)
        allowed = self.has_change_permission(request, session) if change else self.has_view_permission(request, session)
        if not allowed:
            raise PermissionDenied
        return session

    def live_view(self, request, session_id: int):
        session = self._session_for(request, session_id)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Live: {session.name}",
            "session": session,
            "opts": self.model._meta,
            "snapshot": live_snapshot(session),
            "data_url": reverse("admin:plans_salesession_live_data", args=[session.pk]),
            "poll_ms": settings.FLASHSALE_LIVE_POLL_MS,
        }
        return TemplateResponse(request, "admin/plans/salesession/live.html", context)

    def live_data_view(self, request, session_id: int):
        session = self._session_for(request, session_id)
        # admin_view() already marks the response never-cache.
        return JsonResponse(live_snapshot(session))

    def adjust_view(self, request, session_id: int):
        session = self._session_for(request, session_id, change=True)
        if not request.user.has_perm("plans.add_adjustment"):
            raise PermissionDenied
        form = AdjustStockForm(request.POST or None, session=session)
        if request.method == "POST" and form.is_valid():
            item = form.cleaned_data["item"]
            try:
                result = adjust_stock(
                    item, delta=form.cleaned_data["delta"], reason=form.cleaned_data["reason"], user=request.user
                )
            except PlansError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, describe_adjustment(item, result), messages.SUCCESS)
                return HttpResponseRedirect(request.path)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Adjust stock: {session.name}",
            "session": session,
            "opts": self.model._meta,
            "form": form,
            "adjustments": Adjustment.objects.filter(item__session=session)
            .select_related("item__product", "created_by")
            .order_by("-created_at")[:50],
            "snapshot": live_snapshot(session) if session.is_in_redis else None,
        }
        return TemplateResponse(request, "admin/plans/salesession/adjust.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        session = self.get_object(request, object_id)
        if session is not None:
            extra_context["session_locked"] = session.is_locked
            extra_context["session_in_redis"] = session.is_in_redis
        return super().change_view(request, object_id, form_url, extra_context)


def describe_adjustment(item: SaleItem, result) -> str:
    name = item.product.name
    if result.applied > 0:
        return f"Added {result.applied} units to {name}; {result.remaining} now on sale."
    if result.partial:
        return (
            f"Withdrew {-result.applied} of the {-result.requested} units asked from {name} "
            f"(only {-result.applied} were still on sale); {result.remaining} now on sale."
        )
    return f"Withdrew {-result.applied} units from {name}; {result.remaining} now on sale."


@admin.register(Adjustment)
class AdjustmentAdmin(ViewOnlyAdmin):
    """The audit trail of stock adjustments: made on a session's “Adjust stock” page, never edited."""

    list_display = ("created_at", "item", "session", "delta", "reason", "created_by")
    list_select_related = ("item__product", "item__session", "created_by")
    list_filter = ("item__session",)
    search_fields = ("reason", "item__product__name", "item__session__name")
    date_hierarchy = "created_at"

    @admin.display(description="session")
    def session(self, obj: Adjustment) -> str:
        return obj.item.session.name
