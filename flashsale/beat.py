"""Beat's scheduler: django-celery-beat's database scheduler, plus a heartbeat file for healthchecks."""

from __future__ import annotations

import logging

from django.conf import settings
from django_celery_beat.schedulers import DatabaseScheduler

from flashsale import heartbeat
from flashsale.tasks import beat_heartbeat

log = logging.getLogger(__name__)


class HeartbeatScheduler(DatabaseScheduler):
    """Touches ``FLASHSALE_BEAT_HEARTBEAT_FILE`` (when set) on every tick: a stuck or dead beat stops touching it."""

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        if settings.FLASHSALE_BEAT_HEARTBEAT_FILE:
            heartbeat.touch(settings.FLASHSALE_BEAT_HEARTBEAT_FILE)
        return interval

    def setup_schedule(self):
        super().setup_schedule()
        # The first heartbeat as beat starts, not one interval later: until a worker has run one,
        # /readyz says beat is down (it did for the first 30 s of every `make demo`).
        try:
            beat_heartbeat.apply_async(retry=False)
        except Exception as exc:  # the broker is not up yet: the schedule's own heartbeat follows
            log.warning("first beat heartbeat not sent: %s", exc)
