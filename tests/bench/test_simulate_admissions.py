"""The benchmark's waiting-room scenario, small: shoppers wait, the session opens, the rate holds."""

from __future__ import annotations

import pytest

from bench.waiting_room import simulate_admissions

pytestmark = pytest.mark.django_db


def test_simulated_admissions_follow_the_rate_and_the_queue(loaded_session):
    result = simulate_admissions(loaded_session.pk, shoppers=300, rate=20.0, seconds=40.0, seed=11)
    assert result["early_arrivals"] == 240
    assert result["admitted_in_queue_order"] is True
    # 20 s after the opening at 20/s: everyone is in after 15 s, and the rate was binding until then.
    assert result["admitted"] == 300
    assert result["admissions_per_second_max"] <= 20
    assert 19.0 <= result["admissions_per_second_mean"] <= 20.0
    assert result["dropped"] == 0
