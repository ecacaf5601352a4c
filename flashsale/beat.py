"""Beat's scheduler: django-celery-beat's database scheduler, plus a heartbeat file for healthchecks."""

from __future__ import annotations

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

from flashsale import heartbeat


class HeartbeatScheduler(DatabaseScheduler):
    """Touches ``FLASHSALE_BEAT_HEARTBEAT_FILE`` (when set) on every tick: a stuck or dead beat stops touching it."""

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        if settings.FLASHSALE_BEAT_HEARTBEAT_FILE:
            heartbeat.touch(settings.FLASHSALE_BEAT_HEARTBEAT_FILE)
        return interval
