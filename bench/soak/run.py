"""One soak run: start everything, drive the crowd and the fault loop for ``minutes``, check the
invariants every minute and at the end, reconcile the day, write the report. Everything started is
stopped on the way out, also on Ctrl-C or an error."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.soak.schedule import build_schedule
from bench.soak.stack import (
    DEFAULT_DATABASE_URL,
    RESERVATION_TTL_SECONDS,
    Stack,
    prepare_environment,
    recreate_database,
)

ROOT = Path(__file__).resolve().parents[2]
SHOPPERS = 200
CHECK_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class SoakOptions:
    minutes: float
    seed: int
    rate: float
    output_dir: Path
    database_url: str = DEFAULT_DATABASE_URL
    keep_workdir: bool = False


def run(options: SoakOptions) -> int:
    from bench.soak.faults import ORCHESTRATOR_APP_NAME

    workdir = Path(tempfile.mkdtemp(prefix="flashsale-soak-"))
    print(f"soak: {options.minutes:g} minutes, seed {options.seed}, work directory {workdir}", flush=True)
    recreate_database(options.database_url)
    stack = Stack(workdir=workdir, database_url=options.database_url)
    ok = False
    try:
        stack.start_redis()
        prepare_environment(database_url=options.database_url, redis_url=stack.redis_url, gateway_url=stack.gateway_url)
        # The orchestrator's own connections carry a name, so pg_terminate_backend spares them.
        os.environ["PGAPPNAME"] = ORCHESTRATOR_APP_NAME
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        ok = _drive(stack, options)
    finally:
        stack.stop()
        if ok and not options.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"soak: logs kept in {workdir}", flush=True)
    return 0 if ok else 1


def _drive(stack: Stack, options: SoakOptions) -> bool:
    from bench.soak import checks, settle
    from bench.soak.crowd import Crowd
    from bench.soak.faults import FaultLoop, Probes
    from bench.soak.seed import Operator, live_sales
    from tests.support.shoppers import make_shoppers

    sales = live_sales(hours=options.minutes / 60 + 2)
    shoppers = make_shoppers(SHOPPERS + 1, sale_ids=[s.id for s in sales], prefix="soak")
    probe_shopper, shoppers = shoppers[0], shoppers[1:]
    stack.start_site()
    print(
        f"soak: site up on {[n.url for n in stack.web]}, gateway {stack.gateway.url}, redis {stack.redis_url}",
        flush=True,
    )

    schedule = build_schedule(options.seed, options.minutes)
    crowd = Crowd(
        shoppers=shoppers,
        sales=sales,
        node_urls=[n.url for n in stack.web],
        gateway=stack.gateway,
        seed=options.seed,
        rate=options.rate,
        ttl_seconds=RESERVATION_TTL_SECONDS,
    )
    faults = FaultLoop(stack, schedule, Probes(stack, probe_shopper, sales), crowd.now)
    operator = Operator(sales, seed=options.seed, period=20.0 if options.minutes < 10 else 45.0, now=crowd.now)
    r = stack.redis.client()
    user_ids = [s.user_id for s in shoppers]
    minute_results: list[dict] = []
    duration = options.minutes * 60
    crowd.start()
    faults.start()
    operator.start()
    try:
        next_check = CHECK_EVERY_SECONDS
        while crowd.now() < duration:
            time.sleep(max(0.0, min(next_check, duration) - crowd.now()))
            if crowd.now() >= next_check:
                now = crowd.now()
                results = checks.minute_checks(r, sales, user_ids, crowd.log.redirect_dicts(), now=now)
                minute_results.append({"t": round(now, 1), "checks": [c.as_dict() for c in results]})
                failing = [c.name for c in results if not c.ok]
                print(
                    f"soak: {now:7.1f}s minute check: {'all hold' if not failing else 'FAILED ' + str(failing)}",
                    flush=True,
                )
                next_check += CHECK_EVERY_SECONDS
        crowd_end = crowd.now()
    finally:
        faults.stop()
        operator.stop()
        crowd.stop(payments_grace=RESERVATION_TTL_SECONDS + 30)
    print(f"soak: {crowd.now():7.1f}s crowd stopped; settling and reconciling", flush=True)
    report = settle.finish(
        stack=stack,
        options=options,
        sales=sales,
        user_ids=user_ids,
        crowd=crowd,
        faults=faults,
        operator=operator,
        schedule=schedule,
        minute_results=minute_results,
        crowd_end=crowd_end,
    )
    return report["ok"]
