"""The back office writes a time one way: year first, 24-hour, as the live page and the mails do."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import formats


def test_dates_and_times_are_year_first_and_24_hour(settings):
    settings.TIME_ZONE = "UTC"
    moment = datetime(2026, 11, 30, 18, 53, 15, tzinfo=UTC)
    assert formats.date_format(moment, "DATETIME_FORMAT") == "2026-11-30 18:53:15"
    assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "2026-11-30 18:53"
    assert formats.date_format(moment.date(), "DATE_FORMAT") == "2026-11-30"
