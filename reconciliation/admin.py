"""Operators' reconciliation screens: runs with their report, discrepancies, compensations."""

from __future__ import annotations

import csv
from datetime import date, timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from flashsale import clock
from flashsale.view_only_admin import ViewOnlyAdmin
from reconciliation.compensation import CompensationFailed, compensate, plan_for
from reconciliation.gateway import GatewayError
from reconciliation.models import Compensation, Discrepancy, ReconciliationRun
from reconciliation.report import chart_for, discrepancy_rows, kind_counts


class RunNowForm(forms.Form):
    day = forms.DateField(label="Day (UTC)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_day(self) -> date:
        day = self.cleaned_data["day"]
        if day > clock.now().date():
            raise forms.ValidationError("A day in the future has nothing to reconcile yet.")
        return day


class _Echo:
    """A file-like object csv.writer can write one row to, handing the text back."""

    def write(self, value: str) -> str:
        return value


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(admin.ModelAdmin):
    list_display = (
        "period",
        "status",
        "trigger",
        "ours_paid",
        "theirs_paid",
        "matched",
        "discrepancies",
        "mismatched",
        "started",
        "rerun_of",
    )
    list_filter = ("status", "trigger")
    date_hierarchy = "period"
    list_select_related = ("previous_run",)
    change_list_template = "admin/reconciliation/reconciliationrun/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Runs are the audit trail: a re-run adds a run, nothing is deleted.
        return False

    # Short headings: the list fits beside the filters at 1280 px.
    @admin.display(description="ours paid", ordering="our_paid_count")
    def ours_paid(self, run: ReconciliationRun) -> int:
        return run.our_paid_count

    @admin.display(description="theirs paid", ordering="their_paid_count")
    def theirs_paid(self, run: ReconciliationRun) -> int:
        return run.their_paid_count

    @admin.display(description="matched", ordering="matched_count")
    def matched(self, run: ReconciliationRun) -> int:
        return run.matched_count

    @admin.display(description="discrepancies", ordering="discrepancy_count")
    def discrepancies(self, run: ReconciliationRun) -> int:
        return run.discrepancy_count

    @admin.display(description="mismatched", ordering="mismatched_amount")
    def mismatched(self, run: ReconciliationRun) -> str:
        return f"{run.mismatched_amount} {run.currency}".strip()

    @admin.display(description="started", ordering="started_at")
    def started(self, run: ReconciliationRun) -> str:
        # The day is the period's most of the time: then the time alone (site's time zone).
        local = timezone.localtime(run.started_at)
        return f"{local:%H:%M}" if local.date() == run.period else f"{local:%Y-%m-%d %H:%M}"

    @admin.display(description="re-run of")
    def rerun_of(self, run: ReconciliationRun) -> str:
        return f"#{run.previous_run_id}" if run.previous_run_id else ""

    def get_urls(self):
        own = [
            path("run-now/", self.admin_site.admin_view(self.run_now_view), name="reconciliation_run_now"),
            path(
                "<int:run_id>/report/", self.admin_site.admin_view(self.report_view), name="reconciliation_run_report"
            ),
            path("<int:run_id>/csv/", self.admin_site.admin_view(self.csv_view), name="reconciliation_run_csv"),
        ]
        return own + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The page of a run is its report.
        return HttpResponseRedirect(reverse("admin:reconciliation_run_report", args=[int(object_id)]))

    def run_now_view(self, request: HttpRequest):
        if not request.user.has_perm("reconciliation.add_reconciliationrun"):
            raise PermissionDenied
        yesterday = clock.now().date() - timedelta(days=1)
        form = RunNowForm(request.POST or None, initial={"day": yesterday})
        if request.method == "POST" and form.is_valid():
            from reconciliation.tasks import reconcile_date

            day = form.cleaned_data["day"]
            try:
                reconcile_date.delay(day.isoformat(), request.user.pk)
            except Exception as exc:  # the broker is down: say so instead of a server error
                self.message_user(request, f"Could not queue the reconciliation: {exc}", messages.ERROR)
                return HttpResponseRedirect(request.path)
            self.message_user(
                request,
                f"Reconciliation of {day} is queued; its run appears in this list when it finishes"
                + (
                    " (a re-run: the earlier runs stay)."
                    if ReconciliationRun.objects.filter(period=day).exists()
                    else "."
                ),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:reconciliation_reconciliationrun_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Run reconciliation now",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/reconciliation/run_now.html", context)

    def report_view(self, request: HttpRequest, run_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ReconciliationRun.objects.select_related("previous_run", "triggered_by"), pk=run_id)
        kind = request.GET.get("kind", "")
        if kind not in Discrepancy.Kind.values:
            kind = ""
        discrepancies = run.discrepancies.prefetch_related("compensations").order_by("kind", "txn_id")
        if kind:
            discrepancies = discrepancies.filter(kind=kind)
        limit = 500
        context = {
            **self.admin_site.each_context(request),
            "title": f"Reconciliation of {run.period}",
            "opts": self.model._meta,
            "run": run,
            "kind": kind,
            "kinds": kind_counts(run),
            "discrepancies": discrepancies[:limit],
            "truncated": discrepancies.count() > limit,
            "limit": limit,
            "chart": chart_for(run),
            "reruns": run.reruns.order_by("started_at"),
            "discrepancy_changelist": reverse("admin:reconciliation_discrepancy_changelist"),
        }
        return TemplateResponse(request, "admin/reconciliation/run_report.html", context)

    def csv_view(self, request: HttpRequest, run_id: int):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(ReconciliationRun, pk=run_id)
        kind = request.GET.get("kind") or None
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            (
                writer.writerow(row)
                for row in discrepancy_rows(run, kind=kind if kind in Discrepancy.Kind.values else None)
            ),
            content_type="text/csv",
        )
        response["Content-Disposition"] = f'attachment; filename="reconciliation-{run.period}-run{run.pk}.csv"'
        return response


class CompensationInline(admin.TabularInline):
    model = Compensation
    extra = 0
    can_delete = False
    fields = (
        "kind",
        "state",
        "attempts",
        "amount",
        "currency",
        "units",
        "automatic",
        "created_by",
        "created_at",
        "detail",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Discrepancy)
class DiscrepancyAdmin(admin.ModelAdmin):
    list_display = (
        "txn_id",
        "kind",
        "run_link",
        "gateway_order_id",
        "our_value",
        "their_value",
        "amount",
        "resolution",
    )
    list_filter = ("kind", "resolution", "run__period")
    search_fields = ("txn_id", "gateway_order_id")
    list_select_related = ("run",)
    readonly_fields = (
        "run",
        "kind",
        "txn_id",
        "gateway_order_id",
        "our_status",
        "our_value",
        "their_value",
        "amount",
        "currency",
        "session_id",
        "item_id",
        "quantity",
        "resolution",
        "resolved_at",
        "resolved_by",
    )
    fields = (*readonly_fields, "note")
    inlines = [CompensationInline]
    actions = ["compensate_selected", "dismiss_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description="run", ordering="run__period")
    def run_link(self, d: Discrepancy) -> str:
        url = reverse("admin:reconciliation_run_report", args=[d.run_id])
        return format_html('<a href="{}">{} #{}</a>', url, d.run.period, d.run_id)

    @admin.action(description="Compensate selected discrepancies (refund / give units back)…", permissions=["change"])
    def compensate_selected(self, request: HttpRequest, queryset):
        queryset = queryset.select_related("run")
        if request.POST.get("confirm") != "yes":
            rows = [(d, plan_for(d)) for d in queryset]
            context = {
                **self.admin_site.each_context(request),
                "title": "Confirm compensations",
                "opts": self.model._meta,
                "rows": rows,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                "action": "compensate_selected",
            }
            return TemplateResponse(request, "admin/reconciliation/confirm_compensation.html", context)
        done = already = 0
        for discrepancy in queryset:
            try:
                results = compensate(discrepancy, user=request.user)
            except (CompensationFailed, GatewayError) as exc:
                self.message_user(request, f"{discrepancy.txn_id}: {exc}", messages.ERROR)
                continue
            done += sum(1 for r in results if r.done)
            already += sum(1 for r in results if not r.done and not r.pending)
            for result in results:
                if result.pending:
                    self.message_user(
                        request,
                        f"{discrepancy.txn_id}: the refund failed ({result.compensation.last_error}); "
                        f"{result.compensation.get_state_display().lower()}.",
                        messages.WARNING,
                    )
        self.message_user(
            request, f"{done} compensation(s) done, {already} already done before (nothing repeated).", messages.SUCCESS
        )
        return None

    @admin.action(description="Dismiss selected discrepancies (no compensation)", permissions=["change"])
    def dismiss_selected(self, request: HttpRequest, queryset):
        count = queryset.filter(resolution=Discrepancy.Resolution.OPEN).update(
            resolution=Discrepancy.Resolution.DISMISSED, resolved_at=clock.now(), resolved_by=request.user
        )
        self.message_user(request, f"{count} discrepancy(ies) dismissed.", messages.SUCCESS)


@admin.register(Compensation)
class CompensationAdmin(ViewOnlyAdmin):
    list_display = (
        "txn_id",
        "kind",
        "state_label",
        "attempts",
        "next_attempt_at",
        "amount",
        "currency",
        "units",
        "automatic",
        "created_by",
        "created_at",
        "detail",
        "last_error",
    )
    list_filter = ("state", "kind", "automatic")
    search_fields = ("txn_id", "gateway_order_id")
    list_select_related = ("created_by",)
    actions = ["retry_refunds_now"]

    @admin.display(description="state", ordering="state")
    def state_label(self, compensation: Compensation) -> str:
        label = compensation.get_state_display()
        if compensation.state == Compensation.State.NEEDS_OPERATOR:
            return format_html('<strong class="errornote" style="padding:2px 6px">{}</strong>', label)
        return label

    def changelist_view(self, request, extra_context=None):
        waiting = Compensation.objects.filter(state=Compensation.State.NEEDS_OPERATOR).count()
        if waiting:
            self.message_user(
                request,
                f"{waiting} refund(s) failed for good and need an operator: check the order at the gateway, "
                "then use “Retry selected refunds now”.",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    @admin.action(description="Retry selected refunds now", permissions=["view"])
    def retry_refunds_now(self, request: HttpRequest, queryset):
        if not request.user.has_perm("reconciliation.change_discrepancy"):
            raise PermissionDenied
        pending = queryset.filter(kind=Compensation.Kind.REFUND).exclude(state=Compensation.State.DONE)
        for compensation in pending.select_related("discrepancy"):
            results = compensate(compensation.discrepancy, user=request.user)
            mine = next((r for r in results if r.compensation.pk == compensation.pk), None)
            state = mine.compensation.get_state_display() if mine else "not attempted"
            level = messages.SUCCESS if mine and mine.done else messages.WARNING
            self.message_user(request, f"{compensation.txn_id}: {state}.", level)
