"""Periodic jobs of sale planning; the logic lives in ``plans.scheduling``."""

from __future__ import annotations

import logging

from celery import shared_task

from plans import scheduling

log = logging.getLogger(__name__)


@shared_task(name="plans.tasks.advance_sessions", ignore_result=True)
def advance_sessions() -> dict:
    result = scheduling.advance_sessions()
    return result.as_dict()
