"""Values built from the settings once per process, and again after a setting changes."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from flashsale.settings_cache import from_settings

built: list[str] = []


@from_settings
def _gateway_name() -> str:
    built.append(settings.FLASHSALE_GATEWAY)
    return settings.FLASHSALE_GATEWAY


def test_built_once_then_again_when_a_setting_changes():
    built.clear()
    _gateway_name.cache_clear()
    first = _gateway_name()
    assert _gateway_name() == first and built == [first]
    with override_settings(FLASHSALE_GATEWAY="changed-for-the-test"):
        assert _gateway_name() == "changed-for-the-test"
    assert _gateway_name() == first
    assert built == [first, "changed-for-the-test", first]
