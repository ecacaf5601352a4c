"""The end of a soak run: let payments, webhooks, expiries and the drainer settle, check every
invariant once more, reconcile the day against the gateway (compensating what it finds), and write
the report."""

from __future__ import annotations

import time
from collections import Counter

import requests

from bench.soak import checks, report
from bench.soak.faults import GRACE_SECONDS

SETTLE_LIMIT_SECONDS = 180.0
# Operator actions (restock, audit) that failed outside every fault's window fail the run too.


def _undelivered(gateway) -> int:
    deliveries = gateway.api.get(f"{gateway.url}/api/deliveries", timeout=10).json()["deliveries"]
    return sum(1 for d in deliveries if not d["delivered_at"])


def _held(r, sales) -> int:
    from flashsale.store import keys

    pipe = r.pipeline(transaction=False)
    for sale in sales:
        for item in sale.items:
            pipe.hget(keys.counts(sale.id, item.pk), "held")
    return sum(int(v or 0) for v in pipe.execute())


def _stream_pending(r, sales) -> int:
    from reservations.drain import drain_lag, redis_now

    now = redis_now(r)
    return sum(drain_lag(sale.id, now=now, client=r).pending for sale in sales)


def wait_settled(stack, sales) -> dict:
    """Every webhook delivered, every hold paid or expired, every stream event persisted."""
    r = stack.redis.client()
    started = time.monotonic()
    state = {}
    while time.monotonic() - started < SETTLE_LIMIT_SECONDS:
        try:
            state = {
                "undelivered": _undelivered(stack.gateway),
                "held": _held(r, sales),
                "stream": _stream_pending(r, sales),
            }
        except (requests.RequestException, OSError) as exc:
            state = {"error": str(exc)}
        if state and not any(state.get(k) for k in ("undelivered", "held", "stream", "error")):
            break
        time.sleep(1)
    state["seconds"] = round(time.monotonic() - started, 1)
    state["settled"] = not any(state.get(k) for k in ("undelivered", "held", "stream", "error"))
    return state


def _orders(gateway, day) -> list[dict]:
    orders, page = [], 1
    while page:
        body = gateway.api.get(
            f"{gateway.url}/api/orders", params={"date": day.isoformat(), "page": page, "page_size": 500}, timeout=30
        ).json()
        orders += body["orders"]
        page = body["next_page"]
    return orders


def reconcile_and_account(gateway) -> tuple[checks.Check, checks.Check]:
    """Reconcile today, compensate what the run left open (as an operator would), reconcile again
    (it must come out clean), then explain every payment the gateway took."""
    from flashsale import clock
    from reconciliation.compensation import compensate
    from reconciliation.matching import reconcile_day
    from reconciliation.models import Discrepancy, ReconciliationRun
    from reservations.models import Transaction

    day = clock.now().date()
    first = reconcile_day(day, trigger=ReconciliationRun.Trigger.COMMAND)
    found = Counter(first.discrepancies.values_list("kind", flat=True))
    auto = Counter(first.discrepancies.filter(resolution="compensated").values_list("kind", flat=True))
    by_hand = 0
    for discrepancy in first.discrepancies.filter(resolution=Discrepancy.Resolution.OPEN):
        compensate(discrepancy)
        by_hand += 1
    again = reconcile_day(day, trigger=ReconciliationRun.Trigger.COMMAND)
    reconciliation = checks.Check(
        "reconciliation",
        first.status != ReconciliationRun.Status.FAILED and again.status == ReconciliationRun.Status.CLEAN,
        {
            "first_run": {"status": first.status, "ours": first.our_count, "theirs": first.their_count,
                          "matched": first.matched_count, "discrepancies": dict(found),
                          "compensated_automatically": dict(auto)},
            "compensated_by_operator": by_hand,
            "second_run": {"status": again.status, "discrepancies": again.discrepancy_count},
        },
    )  # fmt: skip
    rows = {t.txn_id: t for t in Transaction.objects.all()}
    compensated = set(
        Discrepancy.objects.filter(resolution=Discrepancy.Resolution.COMPENSATED).values_list("txn_id", flat=True)
    )
    explained: Counter = Counter()
    unexplained = []
    orders = _orders(gateway, day)
    for order in orders:
        if order["status"] not in ("paid", "refunded"):
            continue  # never paid (opened and left, or cancelled): no money moved
        row = rows.get(order["txn_id"])
        if order["status"] == "paid" and row is not None and row.status == Transaction.Status.PAID:
            explained["paid_here"] += 1
        elif order["status"] == "refunded" and row is not None and row.paid_after_expiry:
            explained["late_payment_refunded"] += 1
        elif order["status"] == "refunded" and order["txn_id"] in compensated:
            explained["discrepancy_compensated"] += 1
        else:
            unexplained.append({"order": order["id"], "txn": order["txn_id"], "status": order["status"],
                                "ours": row.status if row else None})  # fmt: skip
    paid_at_gateway = {o["txn_id"] for o in orders if o["status"] == "paid"}
    paid_here_unknown = [
        t for t, row in rows.items() if row.status == Transaction.Status.PAID and t not in paid_at_gateway
    ]
    payments = checks.Check(
        "every_payment_accounted",
        not unexplained and not paid_here_unknown,
        {
            "explained": dict(explained),
            "unexplained": unexplained[:20],
            "paid_here_not_at_gateway": paid_here_unknown[:20],
        },
    )
    return reconciliation, payments


def finish(*, stack, options, sales, user_ids, crowd, faults, operator, schedule, minute_results, crowd_end) -> dict:
    settled = wait_settled(stack, sales)
    r = stack.redis.client()
    redirects = crowd.log.redirect_dicts()
    final = checks.minute_checks(r, sales, user_ids, redirects, now=float("inf"))
    final.insert(0, checks.Check("settled", settled["settled"], settled))
    final += list(reconcile_and_account(stack.gateway))

    windows = [(f.kind, f.window(run_end=crowd_end)) for f in faults.records]
    site_requests = crowd.log.requests
    errors = report.classify_errors(site_requests, windows)
    operator_outside = [
        a for a in operator.actions
        if not a["ok"] and not any(s <= a["t"] <= e or s <= a.get("end", a["t"]) <= e for _, (s, e) in windows)
    ]  # fmt: skip
    final.append(
        checks.Check(
            "errors_only_inside_fault_windows",
            not errors["outside"] and not operator_outside,
            {
                "outside": errors["outside"][:50],
                "outside_count": len(errors["outside"]),
                "operator_outside": operator_outside,
            },
        )
    )
    not_recovered = [f.kind for f in faults.records if f.recovered_at is None]
    final.append(
        checks.Check(
            "recovered_without_a_hand",
            not not_recovered and not faults.error and len(faults.records) == len(schedule),
            {
                "not_recovered": not_recovered,
                "fault_loop_error": faults.error,
                "injected": len(faults.records),
                "planned": len(schedule),
            },
        )  # fmt: skip
    )
    final.append(
        checks.Check(
            "no_shopper_logged_out",
            not crowd.log.logged_out,
            {"count": len(crowd.log.logged_out), "first": crowd.log.logged_out[:20]},
        )
    )
    exits = {name: m.unplanned_exits for name, m in stack.managed.items() if m.unplanned_exits}
    final.append(checks.Check("no_process_exited_on_its_own", not exits, {"exits": exits}))
    minute_failures = [(m["t"], c["name"]) for m in minute_results for c in m["checks"] if not c["ok"]]
    final.append(
        checks.Check("minute_checks", not minute_failures, {"runs": len(minute_results), "failed": minute_failures})
    )

    fault_rows = []
    for record, (_, window), counted in zip(faults.records, windows, errors["per_fault"], strict=True):
        row = record.as_dict()
        row["window"] = [round(window[0], 2), round(window[1], 2)]
        row["errors"] = counted
        fault_rows.append(row)
    plans = Counter(r["plan"] for r in redirects)
    outcomes = Counter(r["outcome"] or "none" for r in redirects)
    statuses = Counter(
        f"{r.kind} {r.status if r.status is not None else ('timeout' if r.timeout else 'broken')}"
        for r in site_requests
    )
    failed = [c.name for c in final if not c.ok]
    data = {
        "ok": not failed,
        "failed_checks": failed,
        "minutes": options.minutes,
        "seed": options.seed,
        "target_rate": options.rate,
        "fault_windows_grace_seconds": GRACE_SECONDS,
        "schedule": [p.as_dict() for p in schedule],
        "faults": fault_rows,
        "checks": [c.as_dict() for c in final],
        "minute_checks": minute_results,
        "requests": {
            "site": len(site_requests),
            "gateway": len(crowd.log.gateway_requests),
            "per_status": dict(sorted(statuses.items())),
            "rate_per_second": round(len(site_requests) / max(crowd_end, 1), 2),
        },
        "steady_state": report.steady_state(site_requests, windows),
        "errors_inside_windows": {
            "5xx": sum(c.get("5xx", 0) for c in errors["per_fault"]),
            "timeouts": sum(c.get("timeout", 0) for c in errors["per_fault"]),
            "broken": sum(c.get("broken", 0) for c in errors["per_fault"]),
        },
        "redirects": {"count": len(redirects), "plans": dict(plans), "outcomes": dict(outcomes)},
        "operator": {"actions": len(operator.actions), "failed": [a for a in operator.actions if not a["ok"]]},
        "restarts_by_supervisor": {name: m.starts - 1 for name, m in stack.managed.items()},
        "timeline": report.timeline(site_requests, crowd_end),
    }
    json_path = options.output_dir / f"soak-seed{options.seed}.json"
    png_path = options.output_dir / f"soak-seed{options.seed}.png"
    report.write_json(json_path, data)
    report.draw(png_path, data)
    for check in final:
        print(f"soak: {'ok  ' if check.ok else 'FAIL'} {check.name}", flush=True)
    print(
        f"soak: report {json_path}, picture {png_path}; {'every invariant held' if not failed else 'FAILED: ' + ', '.join(failed)}",
        flush=True,
    )
    return data
