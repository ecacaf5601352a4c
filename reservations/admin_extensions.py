"""Sale-session admin with the reservations side's controls: stock audit, repair, waiting room.

``plans`` must not import ``reservations``, so the wiring lives here: this module replaces the
plans ``SaleSessionAdmin`` registration with a subclass that adds the audit and waiting-room
actions, the drift banner, the waiting-room panel on the live page and the admission-rate form.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from plans.admin import SaleSessionAdmin
from plans.live import live_snapshot, operator_time
from plans.models import SaleItem, SaleSession
from reservations.audit import AuditReport, audit_session, drifting_sessions, latest_report
from reservations.audit_repair import AuditRepairBusy, RepairResult, repair_session
from reservations.funnel import funnel
from reservations.models import Transaction
from reservations.waiting_room import pause_admissions, set_admission_rate, waiting_room_stats

# More drifting sessions than this are summed up in one line, so the list stays readable.
MAX_DRIFT_BANNERS = 5
LIVE_TEMPLATE = "admin/reservations/salesession_live.html"


class AdmissionRateForm(forms.Form):
    rate = forms.FloatField(
        required=False,
        min_value=0,
        label="Admissions per second",
        help_text="Empty or 0 lets everyone waiting in at once.",
    )


# --- what the admin shows ----------------------------------------------------------------------


def audited_at(report: AuditReport, *, zone: bool = True) -> str:
    return operator_time(report.checked_at, zone=zone)


def _units(count: int) -> str:
    return f"{count} unit{'' if count == 1 else 's'}"


def drift_words(report: AuditReport, names: dict[int, str], usernames: dict[int, str] | None = None) -> str:
    """What an audit found, in the operators' words: products by name, units missing or extra, once."""
    parts = []
    for item in report.drifting_items:
        name = names.get(item.item_id, f"item {item.item_id}")
        if item.drift < 0:
            said = f"{name}: {_units(-item.drift)} missing ({item.accounted} accounted for, {item.expected} expected)"
        elif item.drift > 0:
            said = f"{name}: {_units(item.drift)} too many could sell ({item.accounted} accounted for, {item.expected} expected)"
        else:
            said = name
        if not item.totals_match_plan:
            said += (
                f"; Redis was loaded with {item.allocated} allocated and {item.adjusted:+d} adjusted, "
                f"PostgreSQL plans {item.planned_allocated} and {item.planned_adjusted:+d}"
            )
        parts.append(said)
    for mismatch in report.users:
        who = (usernames or {}).get(mismatch.user_id, f"shopper #{mismatch.user_id}")
        name = names.get(mismatch.item_id, f"item {mismatch.item_id}")
        parts.append(f"{who}, {name}: counted {mismatch.counted}, reservations hold {mismatch.active}")
    parts += [f"{names.get(item_id, f'item {item_id}')}: planned but not loaded" for item_id in report.missing_items]
    return "; ".join(parts)


def _names_for(session_id: int, report: AuditReport) -> tuple[dict[int, str], dict[int, str]]:
    names = dict(SaleItem.objects.filter(session_id=session_id).values_list("pk", "product__name"))
    user_ids = {mismatch.user_id for mismatch in report.users}
    usernames = dict(get_user_model().objects.filter(pk__in=user_ids).values_list("pk", "username")) if user_ids else {}
    return names, usernames


def drift_banner(name: str, report: AuditReport | None) -> str:
    """The error line operators see for a session whose last audit found drift."""
    if report is None:
        return f"Stock drift in {name}: found by an earlier audit whose report is no longer kept; audit it again."
    return (
        f"Stock drift in {name} (audited {audited_at(report)}): {drift_words(report, *_names_for(report.session_id, report))}. "
        "Use “Repair stock from PostgreSQL” once the cause is understood."
    )


def audit_state(report: AuditReport | None) -> dict | None:
    """The latest audit as the live page's JSON carries it; ``None`` if never audited."""
    if report is None:
        return None
    words = "balanced" if report.ok else drift_words(report, *_names_for(report.session_id, report))
    return {
        "ok": report.ok,
        "summary": words,
        "formula": report.summary(),
        "checked_at": report.checked_at,
        "checked_at_label": audited_at(report, zone=False),
        "drifting_items": len(report.drifting_items),
        "user_mismatches": len(report.users),
        "missing_items": len(report.missing_items),
    }


def money_taken(session_id: int) -> tuple[int, dict[str, Decimal]]:
    """Paid reservations and the money they brought, per currency (PostgreSQL: the webhook writes paid rows at once)."""
    rows = (
        Transaction.objects.in_session(session_id)
        .paid()
        .values("currency")
        .annotate(count=Count("pk"), amount=Sum("amount"))
    )
    # PostgreSQL sums numeric(.., 2) to 2 places; SQLite (the demo's default) to a float's 15 digits.
    places = Transaction._meta.get_field("amount").decimal_places
    quantum = Decimal(1).scaleb(-places) if places is not None else Decimal(1)
    return sum(row["count"] for row in rows), {row["currency"]: row["amount"].quantize(quantum) for row in rows}


def operator_figures(session: SaleSession) -> dict:
    """Waiting room, audit, funnel and revenue figures added to the live snapshot."""
    paid, revenue = money_taken(session.pk)
    return {
        "waiting_room": waiting_room_stats(session.pk) if session.is_in_redis else None,
        "audit": audit_state(latest_report(session.pk)),
        "funnel": funnel(session.pk, paid=paid, revenue=revenue),
    }


def describe_repair(result: RepairResult) -> str:
    """What a repair did, item by item, then what the audit that followed it found."""
    names = dict(
        SaleItem.objects.filter(pk__in=[item.item_id for item in result.items]).values_list("pk", "product__name")
    )
    parts = []
    for item in result.items:
        text = f"{names.get(item.item_id, f'item {item.item_id}')}: list {item.list_before} → {item.list_target}"
        text += f" (pushed {item.pushed}, trimmed {item.trimmed}"
        if item.totals_reset:
            text += ", Redis totals reset from PostgreSQL"
        if item.oversold:
            text += f", {item.oversold} unit(s) sold beyond the plan cannot be taken back"
        if item.adjustment_id:
            text += f", recorded as adjustment #{item.adjustment_id}"
        parts.append(text + ")")
    done = "; ".join(parts) if result.changed else "nothing to repair"
    after = (
        "now balanced"
        if result.report.ok
        else f"still drifting: {drift_words(result.report, *_names_for(result.report.session_id, result.report))}"
    )
    return f"{done}. Audit after the repair: {after}."


# --- the admin ---------------------------------------------------------------------------------


class OperatedSaleSessionAdmin(SaleSessionAdmin):
    actions = [
        *SaleSessionAdmin.actions,
        "audit_stock_now",
        "repair_stock",
        "pause_admissions_action",
        "resume_admissions_action",
    ]

    def has_repair_permission(self, request) -> bool:
        # A repair records Adjustments, so it needs that right as well as changing sessions.
        return self.has_change_permission(request) and request.user.has_perm("plans.add_adjustment")

    # --- drift banner ---------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        # Only on GET: after an action's POST the list redirects and the banner shows there once.
        if request.method == "GET":
            self._warn_drifting(request, drifting_sessions())
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET" and str(object_id).isdigit():
            report = latest_report(int(object_id))
            if report is not None and not report.ok:
                name = SaleSession.objects.filter(pk=int(object_id)).values_list("name", flat=True).first()
                if name is not None:
                    self.message_user(request, drift_banner(name, report), messages.ERROR)
        return super().change_view(request, object_id, form_url, extra_context)

    def _warn_drifting(self, request, session_ids: list[int]) -> None:
        names = SaleSession.objects.in_bulk(session_ids[:MAX_DRIFT_BANNERS])
        for session_id in session_ids[:MAX_DRIFT_BANNERS]:
            if session_id in names:
                report = latest_report(session_id)
                self.message_user(request, drift_banner(names[session_id].name, report), messages.ERROR)
        if len(session_ids) > MAX_DRIFT_BANNERS:
            more = len(session_ids) - MAX_DRIFT_BANNERS
            self.message_user(request, f"Stock drift in {more} more session(s).", messages.ERROR)

    # --- actions --------------------------------------------------------------------------------

    def _in_redis(self, request, queryset, *, doing: str) -> list[SaleSession]:
        """The selected sessions that are in Redis; a message for each one that is not."""
        found = []
        for session in queryset:
            if session.is_in_redis:
                found.append(session)
            else:
                self.message_user(
                    request,
                    f"{session.name} is {session.get_state_display().lower()}: only a loaded or live session "
                    f"can be {doing}.",
                    messages.WARNING,
                )
        return found

    @admin.action(description="Audit stock now", permissions=["change"])
    def audit_stock_now(self, request, queryset):
        page = self._confirmed(
            request,
            queryset,
            action="audit_stock_now",
            title="Audit stock",
            question="Audit these sessions’ stock now? Every item’s units are counted in Redis and "
            "checked against PostgreSQL; nothing is changed.",
        )
        if page is not None:
            return page
        for session in self._in_redis(request, queryset, doing="audited"):
            report = audit_session(session.pk)
            if report.ok:
                checked = f"{len(report.items)} products and {report.users_checked} shoppers' counts checked"
                self.message_user(request, f"{session.name}: balanced ({checked}).", messages.SUCCESS)
            else:
                found = drift_words(report, *_names_for(session.pk, report))
                self.message_user(request, f"{session.name}: drift found. {found}", messages.ERROR)
        return None

    @admin.action(description="Repair stock from PostgreSQL", permissions=["repair"])
    def repair_stock(self, request, queryset):
        page = self._confirmed(
            request,
            queryset,
            action="repair_stock",
            title="Repair stock from PostgreSQL",
            question="Repair these sessions’ stock lists from PostgreSQL’s totals? Missing units are "
            "pushed, surplus units withdrawn, and each change is recorded as an adjustment. "
            "Reservations keep running meanwhile.",
        )
        if page is not None:
            return page
        for session in self._in_redis(request, queryset, doing="repaired"):
            try:
                result = repair_session(session.pk, user=request.user)
            except AuditRepairBusy:
                self.message_user(
                    request,
                    f"{session.name}: another repair of this session is running; nothing was changed. "
                    "Try again once it has finished.",
                    messages.ERROR,
                )
                continue
            level = messages.SUCCESS if result.report.ok else messages.WARNING
            self.message_user(request, f"Repaired {session.name}: {describe_repair(result)}", level)
        return None

    def _set_paused(self, request, queryset, *, paused: bool):
        verb = "pause" if paused else "resume"
        page = self._confirmed(
            request,
            queryset,
            action=f"{verb}_admissions_action",
            title=f"{verb.capitalize()} admissions",
            question=(
                "Pause admissions from these sessions’ waiting rooms? Shoppers keep their place in the queue."
                if paused
                else "Resume admissions from these sessions’ waiting rooms at their admission rate?"
            ),
        )
        if page is not None:
            return page
        sessions = self._in_redis(request, queryset, doing=f"{verb}d")
        for session in sessions:
            pause_admissions(session.pk, paused)
        if sessions:
            names = ", ".join(session.name for session in sessions)
            self.message_user(request, f"Admissions {verb}d: {names}", messages.SUCCESS)
        return None

    @admin.action(description="Pause admissions", permissions=["change"])
    def pause_admissions_action(self, request, queryset):
        return self._set_paused(request, queryset, paused=True)

    @admin.action(description="Resume admissions", permissions=["change"])
    def resume_admissions_action(self, request, queryset):
        return self._set_paused(request, queryset, paused=False)

    # --- live page --------------------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path(
                "<int:session_id>/admission-rate/",
                wrap(self.admission_rate_view),
                name="plans_salesession_admission_rate",
            ),
            path("<int:session_id>/repair/", wrap(self.repair_view), name="plans_salesession_repair"),
            *super().get_urls(),
        ]

    def live_view(self, request, session_id: int):
        response = super().live_view(request, session_id)
        session = response.context_data["session"]
        figures = operator_figures(session)
        # Into the snapshot itself, so the page's first render and every poll read the same keys.
        response.context_data["snapshot"].update(figures)
        rate = (figures["waiting_room"] or {}).get("rate")
        response.context_data.update(
            rate_form=AdmissionRateForm(initial={"rate": rate}),
            rate_url=reverse("admin:plans_salesession_admission_rate", args=[session.pk]),
            can_change=self.has_change_permission(request, session),
            can_repair=self.has_repair_permission(request),
            repair_url=reverse("admin:plans_salesession_repair", args=[session.pk]),
        )
        response.template_name = LIVE_TEMPLATE
        return response

    def live_data_view(self, request, session_id: int):
        session = self._session_for(request, session_id)
        return JsonResponse({**live_snapshot(session), **operator_figures(session)})

    def repair_view(self, request, session_id: int):
        """The live page's "Repair stock" button: a confirmation, then the repair, back on the live page."""
        session = self._session_for(request, session_id, change=True)
        if not self.has_repair_permission(request):
            raise PermissionDenied
        live = reverse("admin:plans_salesession_live", args=[session.pk])
        if request.method != "POST":
            context = {
                **self.admin_site.each_context(request),
                "title": f"Repair stock: {session.name}",
                "session": session,
                "opts": self.model._meta,
                "live_url": live,
            }
            return TemplateResponse(request, "admin/reservations/repair_confirmation.html", context)
        if not session.is_in_redis:
            self.message_user(request, f"{session.name} is not in Redis: nothing to repair.", messages.WARNING)
            return HttpResponseRedirect(live)
        try:
            result = repair_session(session.pk, user=request.user)
        except AuditRepairBusy:
            self.message_user(
                request, f"{session.name}: another repair is running; nothing was changed.", messages.ERROR
            )
        else:
            level = messages.SUCCESS if result.report.ok else messages.WARNING
            self.message_user(request, f"Repaired {session.name}: {describe_repair(result)}", level)
        return HttpResponseRedirect(live)

    def admission_rate_view(self, request, session_id: int):
        session = self._session_for(request, session_id, change=True)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        form = AdmissionRateForm(request.POST)
        if not session.is_in_redis:
            self.message_user(
                request,
                f"{session.name} is {session.get_state_display().lower()}: the admission rate can be set "
                "once it is loaded.",
                messages.ERROR,
            )
        elif form.is_valid():
            rate = form.cleaned_data["rate"] or None
            set_admission_rate(session.pk, rate)
            said = f"{rate:g} per second" if rate else "everyone at once"
            self.message_user(request, f"Admission rate of {session.name} set to {said}.", messages.SUCCESS)
        else:
            errors = " ".join(str(error) for errors in form.errors.values() for error in errors)
            self.message_user(request, f"Admission rate not changed: {errors}", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:plans_salesession_live", args=[session.pk]))


admin.site.unregister(SaleSession)
admin.site.register(SaleSession, OperatedSaleSessionAdmin)
