"""The soak's figures: errors inside and outside the faults' windows, steady-state latency, a
timeline; written as JSON and drawn as a PNG (requests/s, p99 and errors over time, faults shaded)."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

BIN_SECONDS = 5
# The first seconds warm every worker up (imports, first connections): not the steady state.
WARM_UP_SECONDS = 10.0


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)], 1)


def _inside(request, window: tuple[float, float]) -> bool:
    start, end = window
    finished = request.t + request.latency_ms / 1000
    return request.t <= end and finished >= start


def classify_errors(requests, windows: list[tuple[str, tuple[float, float]]]) -> dict:
    """Each failed request (5xx, timeout, broken connection) counted against the fault whose window it
    falls in, or as outside every window."""
    per_fault = [Counter() for _ in windows]
    outside: list[dict] = []
    for request in requests:
        if not request.failed:
            continue
        how = "timeout" if request.timeout else "broken" if request.broken else "5xx"
        hits = [n for n, (_, window) in enumerate(windows) if _inside(request, window)]
        if hits:
            per_fault[hits[0]][how] += 1
        else:
            outside.append({"t": round(request.t, 2), "kind": request.kind, "status": request.status, "how": how})
    return {"per_fault": [dict(c) for c in per_fault], "outside": outside}


def steady_state(requests, windows: list[tuple[str, tuple[float, float]]]) -> dict:
    """Latency of the requests that met no fault (after the warm-up), overall and per kind of request."""
    calm = [
        r
        for r in requests
        if r.t >= WARM_UP_SECONDS and r.status is not None and not any(_inside(r, w) for _, w in windows)
    ]
    by_kind: dict[str, list[float]] = {}
    for r in calm:
        by_kind.setdefault(r.kind, []).append(r.latency_ms)
    all_ms = [r.latency_ms for r in calm]
    return {
        "requests": len(calm),
        "warm_up_seconds_left_out": WARM_UP_SECONDS,
        "p50_ms": percentile(all_ms, 50),
        "p99_ms": percentile(all_ms, 99),
        "max_ms": round(max(all_ms), 1) if all_ms else None,
        "per_kind": {
            kind: {"requests": len(ms), "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99)}
            for kind, ms in sorted(by_kind.items())
        },
    }


def timeline(requests, duration: float) -> list[dict]:
    bins = max(1, int(duration // BIN_SECONDS))  # whole bins only: a last partial one would read as a drop
    latencies: list[list[float]] = [[] for _ in range(bins)]
    statuses: list[Counter] = [Counter() for _ in range(bins)]
    for r in requests:
        n = int(r.t // BIN_SECONDS)
        if n >= bins:
            continue
        if r.status is not None:
            latencies[n].append(r.latency_ms)
        statuses[n][
            "5xx"
            if r.status is not None and r.status >= 500
            else "timeout"
            if r.timeout
            else "broken"
            if r.broken
            else "ok"
        ] += 1
    return [
        {
            "t": n * BIN_SECONDS,
            "rps": round(sum(statuses[n].values()) / BIN_SECONDS, 2),
            "p99_ms": percentile(latencies[n], 99),
            "errors_5xx": statuses[n]["5xx"],
            "timeouts": statuses[n]["timeout"],
            "broken": statuses[n]["broken"],
        }
        for n in range(bins)
    ]


def write_json(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=False, default=str) + "\n")


def draw(path: Path, report: dict) -> None:
    """Three stacked panels over the run's time, each fault's window shaded and labelled."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = report["timeline"]
    t = [p["t"] / 60 for p in points]
    fig, (rps_ax, p99_ax, err_ax) = plt.subplots(3, 1, figsize=(13, 8.5), sharex=True)
    rps_ax.plot(t, [p["rps"] for p in points], color="#1f77b4", lw=1.2)
    rps_ax.set_ylabel("requests/s")
    p99_ax.plot(t, [p["p99_ms"] if p["p99_ms"] is not None else float("nan") for p in points], color="#2ca02c", lw=1.2)
    p99_ax.set_ylabel(f"p99 latency, ms\n({BIN_SECONDS} s bins, log)")
    p99_ax.set_yscale("log")
    width = BIN_SECONDS / 60 * 0.9
    err_ax.bar(t, [p["errors_5xx"] for p in points], width=width, align="edge", color="#d62728", label="5xx")
    err_ax.bar(
        t,
        [p["timeouts"] + p["broken"] for p in points],
        width=width,
        align="edge",
        bottom=[p["errors_5xx"] for p in points],
        color="#ff7f0e",
        label="timeout / no answer",
    )
    err_ax.set_ylabel(f"errors per {BIN_SECONDS} s")
    err_ax.set_ylim(bottom=0, top=max(5, *(p["errors_5xx"] + p["timeouts"] + p["broken"] for p in points)) * 1.1)
    err_ax.set_xlabel("minutes since the crowd started")
    err_ax.legend(loc="upper right", fontsize=8)
    for fault in report["faults"]:
        start, end = fault["window"]
        for ax in (rps_ax, p99_ax, err_ax):
            ax.axvspan(start / 60, end / 60, color="#9467bd", alpha=0.15, lw=0)
        rps_ax.annotate(
            fault["kind"],
            xy=(start / 60, 0.03),
            xycoords=("data", "axes fraction"),
            rotation=90,
            fontsize=7,
            va="bottom",
            ha="right",
            color="#4b2a7a",
        )
    verdict = "every invariant held" if report["ok"] else "FAILED: " + ", ".join(report["failed_checks"])
    fig.suptitle(
        f"make soak: {report['minutes']:g} min, seed {report['seed']}, {report['requests']['site']} requests, "
        f"{len(report['faults'])} faults; {verdict}",
        fontsize=10,
        y=0.995,
    )
    rps_ax.set_ylim(bottom=0)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
