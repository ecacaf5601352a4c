"""Amounts in the currency's minor units, as Stripe counts them: exact both ways, never rounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciliation.minor_units import AmountNotChargeable, from_minor_units, to_minor_units


@pytest.mark.parametrize(
    "amount, currency, minor",
    [
        ("49.90", "EUR", 4990),
        ("0.01", "usd", 1),
        ("1500", "JPY", 1500),
        ("1500.00", "jpy", 1500),
        ("3000", "KRW", 3000),
        ("1.25", "KWD", 1250),
        ("12.34", "ISK", 1234),  # two decimals at Stripe although ISO says none
    ],
)
def test_known_currencies(amount, currency, minor):
    assert to_minor_units(Decimal(amount), currency) == minor
    assert from_minor_units(minor, currency) == Decimal(amount)


@pytest.mark.parametrize("amount, currency", [("1500.50", "JPY"), ("0.001", "EUR"), ("-1.00", "EUR")])
def test_an_amount_that_is_not_a_whole_number_of_minor_units_is_refused(amount, currency):
    with pytest.raises(AmountNotChargeable, match=currency):
        to_minor_units(Decimal(amount), currency)


@given(minor=st.integers(min_value=0, max_value=10**12), currency=st.sampled_from(["EUR", "JPY", "KWD", "GBP"]))
def test_minor_units_round_trip(minor, currency):
    assert to_minor_units(from_minor_units(minor, currency), currency) == minor
