"""Ask the gateway again, now, for the failed refunds whose next attempt is due (what beat does every minute)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from reconciliation.compensation import retry_due_refunds


class Command(BaseCommand):
    help = "Retry the failed refunds that are due; those that keep failing end up marked for an operator."

    def handle(self, *args, **options):
        results = retry_due_refunds()
        for result in results:
            compensation = result.compensation
            self.stdout.write(
                f"{compensation.txn_id}: {compensation.get_state_display()} (attempt {compensation.attempts})"
            )
        self.stdout.write(f"{sum(r.done for r in results)} of {len(results)} due refund(s) done")
