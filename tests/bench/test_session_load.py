"""The load benchmark measures a real load and leaves no rows or keys behind."""

from __future__ import annotations

import pytest

from bench.session_load import measure_session_load
from catalog.models import Product, Provider
from plans.models import SaleSession
from tests.support.redis_guard import keys_but_marker

pytestmark = pytest.mark.django_db


def test_small_benchmark_cleans_up(redis_conn):
    seconds = measure_session_load(items=5, units=20)

    assert seconds > 0
    assert not SaleSession.objects.exists()
    assert not Product.objects.exists() and not Provider.objects.exists()
    assert keys_but_marker(redis_conn) == set()
