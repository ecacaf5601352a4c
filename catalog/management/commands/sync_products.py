"""Pull one provider's feed, or every active pull provider's, now (the shell's "sync now")."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from catalog.models import Provider, SyncRun
from catalog.sync import pull_provider
from flashsale.progress import add_quiet_argument, command_progress


class Command(BaseCommand):
    help = "Fetch and ingest the feed of provider SLUG now, or of every active pull provider."

    def add_arguments(self, parser):
        parser.add_argument("slug", nargs="?", help="A pull provider's slug; omit for all active pull providers.")
        add_quiet_argument(parser)

    def handle(self, *args, slug: str | None, **options):
        if slug:
            provider = Provider.objects.filter(slug=slug).first()
            if provider is None:
                raise CommandError(f"No provider {slug!r}.")
            if provider.delivery != Provider.Delivery.PULL:
                raise CommandError(f"{slug} is a push provider: it delivers through the API, there is no feed.")
            providers = [provider]
        else:
            providers = list(Provider.objects.filter(delivery=Provider.Delivery.PULL, is_active=True))
            if not providers:
                self.stdout.write("No active pull providers.")
                return
        failed = 0
        progress = command_progress(self, options)
        for provider in providers:
            run = pull_provider(provider, trigger=SyncRun.Trigger.OPERATOR, progress=progress)
            line = (
                f"{provider.slug}: run {run.pk} {run.status}: {run.created_count} created, "
                f"{run.updated_count} updated, {run.unchanged_count} unchanged, {run.rejected_count} rejected, "
                f"{run.deactivated_count} deactivated"
            )
            if run.error:
                line += f". {run.error}"
            if run.status == SyncRun.Status.FAILED:
                failed += 1
                self.stdout.write(self.style.ERROR(line))
            else:
                self.stdout.write(self.style.SUCCESS(line))
        if failed:
            raise CommandError(f"{failed} of {len(providers)} syncs failed.")
