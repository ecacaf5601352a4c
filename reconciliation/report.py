"""What the run report shows: the CSV rows of a run's discrepancies and the 30-day chart geometry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from reconciliation.matching import daily_figures
from reconciliation.models import Compensation, Discrepancy, ReconciliationRun

CSV_HEADER = [
    "run",
    "period",
    "kind",
    "txn_id",
    "gateway_order_id",
    "our_status",
    "our_value",
    "their_value",
    "amount",
    "currency",
    "quantity",
    "resolution",
    "resolved_at",
    "compensations",
]


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def discrepancy_rows(run: ReconciliationRun, *, kind: str | None = None) -> Iterator[list[str]]:
    """The header, then one row per discrepancy (streamed, so a large run never sits in memory)."""
    yield CSV_HEADER
    queryset = run.discrepancies.order_by("kind", "txn_id")
    if kind:
        queryset = queryset.filter(kind=kind)
    compensations: dict[int, list[str]] = {}
    for discrepancy_id, comp_kind in Compensation.objects.filter(discrepancy__run=run).values_list(
        "discrepancy_id", "kind"
    ):
        compensations.setdefault(discrepancy_id, []).append(comp_kind)
    for d in queryset.iterator(chunk_size=2000):
        yield [
            str(run.pk),
            run.period.isoformat(),
            d.kind,
            _cell(d.txn_id),
            _cell(d.gateway_order_id),
            d.our_status,
            _cell(d.our_value),
            _cell(d.their_value),
            str(d.amount),
            d.currency,
            str(d.quantity),
            d.resolution,
            d.resolved_at.isoformat() if d.resolved_at else "",
            "+".join(compensations.get(d.pk, [])),
        ]


def _cell(text: str) -> str:
    """Text from the gateway, made inert for spreadsheets (no formula can start a cell)."""
    return f"'{text}" if text[:1] in FORMULA_STARTS else text


def kind_counts(run: ReconciliationRun) -> list[tuple[str, str, int]]:
    """(kind, label, count) for every kind, so the filter shows zeros too."""
    from django.db.models import Count

    counts = dict(run.discrepancies.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    return [(value, label, counts.get(value, 0)) for value, label in Discrepancy.Kind.choices]


@dataclass(frozen=True)
class Bar:
    x: float
    label: str
    matched: Decimal
    mismatched: Decimal
    matched_height: float
    mismatched_height: float
    matched_y: float
    mismatched_y: float
    current: bool


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bar_width: float
    bars: list[Bar]
    peak: Decimal
    baseline: float


def chart_for(run: ReconciliationRun, *, days: int = 30, width: int = 600, height: int = 160) -> Chart:
    """Matched (bottom) and mismatched (stacked on top) amounts per day, up to the run's day."""
    figures = daily_figures(days=days, until=run.period)
    peak = max((f["matched"] + f["mismatched"] for f in figures), default=Decimal("0")) or Decimal("1")
    baseline = height - 20.0
    usable = baseline - 10.0
    slot = width / days
    bars = []
    for index, figure in enumerate(figures):
        matched_h = float(figure["matched"] / peak) * usable
        mismatched_h = float(figure["mismatched"] / peak) * usable
        bars.append(
            Bar(
                x=round(index * slot + slot * 0.15, 2),
                label=figure["day"].isoformat(),
                matched=figure["matched"],
                mismatched=figure["mismatched"],
                matched_height=round(matched_h, 2),
                mismatched_height=round(mismatched_h, 2),
                matched_y=round(baseline - matched_h, 2),
                mismatched_y=round(baseline - matched_h - mismatched_h, 2),
                current=figure["day"] == run.period,
            )
        )
    return Chart(width=width, height=height, bar_width=round(slot * 0.7, 2), bars=bars, peak=peak, baseline=baseline)
