"""``python manage.py reconcile --date YYYY-MM-DD``: reconcile a day against the gateway now."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError

from flashsale import clock
from flashsale.progress import add_quiet_argument, command_progress
from reconciliation.matching import reconcile_day
from reconciliation.models import ReconciliationRun


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--date must be YYYY-MM-DD, not {text!r}") from exc


class Command(BaseCommand):
    help = "Reconcile one day (UTC) of transactions against the payment gateway's orders."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="The day to reconcile (default: yesterday, UTC).")
        parser.add_argument(
            "--no-auto-compensate", action="store_true", help="Do not compensate FLASHSALE_AUTO_COMPENSATE kinds."
        )
        add_quiet_argument(parser)

    def handle(self, *args, date=None, no_auto_compensate=False, **options):
        day = _day(date) if date else clock.now().date() - timedelta(days=1)
        run = reconcile_day(
            day,
            trigger=ReconciliationRun.Trigger.COMMAND,
            auto_compensate=not no_auto_compensate,
            progress=command_progress(self, options),
        )
        self.stdout.write(
            f"Run #{run.pk} of {day}: {run.get_status_display()} in {run.duration_seconds:.2f}s; "
            f"ours {run.our_count} ({run.our_paid_count} paid, {run.our_paid_amount}), "
            f"gateway {run.their_count} ({run.their_paid_count} paid, {run.their_paid_amount}), "
            f"{run.matched_count} matched, {run.discrepancy_count} discrepancies"
            + (f" (re-run of #{run.previous_run_id})" if run.previous_run_id else "")
        )
        for discrepancy in run.discrepancies.all()[:50]:
            self.stdout.write(
                f"  {discrepancy.kind:20} {discrepancy.txn_id} {discrepancy.gateway_order_id} [{discrepancy.resolution}]"
            )
        if run.status == ReconciliationRun.Status.FAILED:
            raise CommandError(f"Reconciliation failed: {run.error}")
