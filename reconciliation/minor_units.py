"""Amounts in a currency's smallest unit, as card gateways count them (Stripe: ``amount`` in cents, yen, …).

The exponents are Stripe's own list (docs.stripe.com/currencies), which differs from ISO 4217 in
places: ISK, HUF and TWD are charged with two decimals there although the last two are zero.
"""

from __future__ import annotations

from decimal import Decimal

# Charged in whole units: 1500 JPY is ``amount=1500``.
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
# Charged in thousandths (the last digit must be 0 at Stripe): 1.250 KWD is ``amount=1250``.
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})


class AmountNotChargeable(ValueError):
    """An amount a gateway cannot charge in that currency (a fraction of its smallest unit, or negative)."""


def exponent(currency: str) -> int:
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_minor_units(amount: Decimal, currency: str) -> int:
    """``Decimal("49.90")``, ``"EUR"`` → ``4990``; ``Decimal("1500")``, ``"JPY"`` → ``1500``. Never rounds."""
    scaled = Decimal(amount).scaleb(exponent(currency))
    if not scaled.is_finite() or scaled < 0 or scaled != scaled.to_integral_value():
        raise AmountNotChargeable(f"{amount} {currency.upper()} is not a whole number of the currency's minor unit")
    return int(scaled)


def from_minor_units(minor: int, currency: str) -> Decimal:
    """``4990``, ``"eur"`` → ``Decimal("49.90")``; ``1500``, ``"jpy"`` → ``Decimal("1500")``."""
    places = exponent(currency)
    return Decimal(int(minor)).scaleb(-places).quantize(Decimal(1).scaleb(-places))
