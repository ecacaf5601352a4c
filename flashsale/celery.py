"""The Celery app: broker and results on Redis, periodic tasks by django-celery-beat.

Workers and beat log through the site's ``LOGGING`` (plain or JSON lines, with the request id that
queued a task: ``flashsale.request_context``) instead of Celery's own format.
"""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flashsale.settings")

app = Celery("flashsale")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect(weak=False)
def _site_logging(**_) -> None:
    # Connected, this replaces Celery's logging set-up (it would otherwise hijack the root logger).
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
