"""``python -m bench``: seed, serve with gunicorn, fire interleaved wrk bursts, check, report.

Exit status: 0 when every unit is accounted for, 1 on any oversell or inconsistency, 2 when the
bench itself cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import median

from bench import calibration
from bench.config import BASE_DIR, BenchConfig, GunicornOptions, load_config
from bench.cpu import CpuMeter
from bench.infra import (
    BenchError,
    Gunicorn,
    ensure_wrk,
    recreate_database,
    redis_client,
    require_tool,
    site_environment,
)
from bench.load import Burst, run_pgbench, run_redis_benchmark, run_wrk, summarize

# Compared by ``--compare-gunicorn``; the default (config.GunicornOptions) is the one they chose.
GUNICORN_CANDIDATES = [
    GunicornOptions(workers=2, worker_class="sync"),
    GunicornOptions(workers=3, worker_class="sync"),
    GunicornOptions(workers=4, worker_class="sync"),
    GunicornOptions(workers=2, worker_class="gthread", threads=4),
    GunicornOptions(workers=3, worker_class="gthread", threads=2),
]


@dataclass
class Scenario:
    """One kind of request, fired by wrk with every shopper's cookie.

    ``paths`` has one path per burst when each burst needs an item of its own (a shopper's
    reservation of an item is idempotent for the sale-page visit, so a second burst on the same
    item would mostly replay); the last one is reused if they run out.
    """

    name: str
    method: str
    paths: tuple[str, ...]
    body: str = ""
    # Where a successful answer redirects (the gateway's checkout); "" for pages answering 200.
    expect_location: str = ""
    warm: bool = True
    used: int = 0
    # The crowd: one (page, poll, reserve, body) per burst; every shopper opens the page, polls ten
    # times and clicks Reserve once (bench/lua/crowd.lua).
    journeys: tuple[tuple[str, str, str, str], ...] = ()

    @property
    def path(self) -> str:
        return self.paths[0]

    def next_path(self) -> str:
        path = self.paths[min(self.used, len(self.paths) - 1)]
        self.used += 1
        return path


class Bench:
    def __init__(self, config: BenchConfig, *, bursts_per_scenario: int | None = None):
        self.config = config
        # Bursts each reserve scenario fires: the warm-up (if any) and the rounds.
        self.bursts_per_scenario = bursts_per_scenario or config.rounds + (1 if config.warmup_s else 0)
        self.unavailable: dict[str, str] = {}
        self.warnings: list[str] = []
        self.started = time.monotonic()
        self.sellout_units: int | None = None
        self.path_items: dict[str, tuple[int, int]] = {}  # reserve path -> (session id, item id)
        self.burst_paths: dict[str, list[str]] = {}
        self.requests_by_path: dict[str, int] = {}
        self.redis_pid: int | None = None  # the Redis server's, read once (bench.cpu)
        self.calibration_calls: int | None = None

    def log(self, message: str) -> None:
        print(f"bench [{time.monotonic() - self.started:6.1f}s] {message}", flush=True)

    # --- setup ------------------------------------------------------------------------------

    def prepare(self) -> None:
        config = self.config
        ensure_wrk()
        require_tool("redis-benchmark")
        require_tool("pgbench")
        self.log(f"fresh database {config.database_name}, empty Redis db {config.redis_db}")
        recreate_database(config.database_url)
        self.redis = redis_client(config.redis_url)
        self.redis.flushdb()
        os.environ.update(site_environment(config))
        import django

        django.setup()
        from django.conf import settings
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
        self.success_location = f"{settings.FLASHSALE_GATEWAY_URL}/checkout/"
        self.seed()

    def seed(self) -> None:
        from bench import hotpath, seed

        config = self.config
        self.scenarios: list[Scenario] = []
        self.commands_paths: dict[str, str] = {"floor": "/bench/floor/"}
        self.our_items: dict[int, dict[int, str]] = {}  # session id -> item id -> name
        sale_session_ids: list[int] = []
        self.peer_hot = seed.peer_stock("peer-hot", config.peer_units)
        self.pg_engine_row = seed.peer_stock("engine-pg", 100_000_000)
        # Each shopper reserves at most one unit of an item (per sale-page visit): an item with
        # more units than shoppers can never sell out, and a per-user limit of 1 never binds.
        hot_units = config.shoppers + 1000
        try:
            self.hot_session, hot_items = seed.live_session(
                "bench-hot", [(hot_units, 1)] * (self.bursts_per_scenario + 1)
            )
            self.hot_items = hot_items[:-1]
            self.commands_item = hot_items[-1]
            self.our_items[self.hot_session.pk] = {item.pk: f"hot-{n + 1}" for n, item in enumerate(self.hot_items)}
            self.our_items[self.hot_session.pk][self.commands_item.pk] = "hot-commands"
            sale_session_ids.append(self.hot_session.pk)
            # Loaded after the warm-up, with about a quarter of what one burst sells.
            self.sellout_session, self.sellout_items = seed.live_session(
                "bench-sellout", [(config.sellout_units, 1)] * config.rounds, load=False
            )
            self.our_items[self.sellout_session.pk] = {
                item.pk: f"sellout-{n + 1}" for n, item in enumerate(self.sellout_items)
            }
            sale_session_ids.append(self.sellout_session.pk)
            self.page_session, _ = seed.live_session("bench-page", [(100, 1)] * config.sale_page_items)
            sale_session_ids.append(self.page_session.pk)
            # An item sold out before the bursts: every click on it is refused (the crowd after a sell-out).
            self.soldout_session, (self.soldout_item,) = seed.live_session("bench-soldout", [(1, 1)])
            seed.take_every_unit(self.soldout_session, self.soldout_item)
            sale_session_ids.append(self.soldout_session.pk)
            # The crowd's sale: one hot item per burst with units for ~1% of the shoppers, and the
            # rest of a 200-item page.
            hot = max(1, config.shoppers // 100)
            bursts = self.bursts_per_scenario
            items = [(hot, 1)] * bursts + [(100, 1)] * max(0, config.sale_page_items - bursts)
            self.crowd_session, crowd_items = seed.live_session("bench-crowd", items)
            self.crowd_hot_items = crowd_items[:bursts]
            self.our_items[self.crowd_session.pk] = {
                item.pk: f"crowd-{n + 1}" for n, item in enumerate(self.crowd_hot_items)
            }
            sale_session_ids.append(self.crowd_session.pk)
        except hotpath.Unavailable as exc:
            self.hot_session = self.page_session = self.sellout_session = self.crowd_session = None
            for key in ("reserve_rps", "sale_page_rps"):
                self.unavailable[key] = exc.reason
        self.log(f"creating {config.shoppers} shoppers with logged-in sessions")
        self.shoppers_file = config.work_dir / "shoppers.txt"
        try:
            prepare = hotpath.shopper_session_preparer()
        except hotpath.Unavailable as exc:
            self.unavailable["reserve_rps"] = exc.reason
            prepare = None
        shoppers = seed.create_shoppers(
            config.shoppers, prepare=prepare, sale_session_ids=sale_session_ids, path=self.shoppers_file
        )
        self.shoppers = [(s.session_key, s.csrf_token) for s in shoppers]
        self.user_ids = [s.user_id for s in shoppers]

        self.scenarios.append(Scenario("floor", "POST", ("/bench/floor/",)))
        # The same view through the hot routes' shorter middleware list (flashsale/hot_routes.py),
        # the one the reserve request runs: what Django costs per request there.
        self.scenarios.append(Scenario("floor_hot", "POST", ("/bench/hot/floor/",)))
        # That floor plus one Redis round trip doing almost nothing (bench/calibration.py): the
        # least any design deciding in Redis pays per request on this machine.
        calibration.seed(self.redis)
        self.scenarios.append(
            Scenario("floor_redis", "POST", ("/bench/hot/round-trip/",), expect_location=self.success_location)
        )
        if self.hot_session is not None and "reserve_rps" not in self.unavailable:
            try:
                self.add_reserve_scenarios()
            except hotpath.Unavailable as exc:
                self.unavailable["reserve_rps"] = exc.reason
        self.scenarios.append(
            Scenario(
                "peer", "POST", (f"/bench/peer/{self.peer_hot.pk}/reserve/",), expect_location=self.success_location
            )
        )
        if self.page_session is not None:
            try:
                page = hotpath.sale_page_path(self.page_session.pk)
                self.scenarios.append(Scenario("sale_page", "GET", (page,)))
                self.commands_paths["sale_page"] = page
                # What every open sale page asks every 3 s (static/js/sale.js): during a sale
                # the most frequent request of all.
                poll = hotpath.stock_poll_path(self.page_session.pk)
                self.scenarios.append(Scenario("stock_poll", "GET", (poll,)))
                self.commands_paths["stock_poll"] = poll
            except hotpath.Unavailable as exc:
                self.unavailable["sale_page_rps"] = exc.reason

    def add_reserve_scenarios(self) -> None:
        from bench import hotpath

        body = hotpath.reserve_form_body()

        def paths(session, items) -> tuple[str, ...]:
            found = []
            for item in items:
                path = hotpath.reserve_path(session.pk, item.pk)
                self.path_items[path] = (session.pk, item.pk)
                found.append(path)
            return tuple(found)

        hot = paths(self.hot_session, self.hot_items)
        sellout = paths(self.sellout_session, self.sellout_items)
        (self.commands_paths["reserve"],) = paths(self.hot_session, [self.commands_item])
        prefix = self.success_location
        self.scenarios.append(Scenario("reserve", "POST", hot, body, expect_location=prefix))
        self.scenarios.append(Scenario("reserve_sellout", "POST", sellout, body, expect_location=prefix, warm=False))
        # Clicks after a sell-out: the process remembers "sold out" (reservations.sold_out).
        (sold_out,) = paths(self.soldout_session, [self.soldout_item])
        self.commands_paths["sold_out"] = sold_out
        self.scenarios.append(Scenario("sold_out", "POST", (sold_out,), body))
        crowd = self.crowd_session.pk
        page, poll = hotpath.sale_page_path(crowd), hotpath.stock_poll_path(crowd)
        chosen = hotpath.reserve_chosen_path(crowd)
        journeys = tuple((page, poll, chosen, hotpath.reserve_chosen_body(item.pk)) for item in self.crowd_hot_items)
        for item in self.crowd_hot_items:
            self.path_items[f"crowd:{item.pk}"] = (crowd, item.pk)
        self.crowd_paths = {page, poll, chosen}
        self.scenarios.append(
            Scenario("crowd", "GET", tuple(f"crowd:{item.pk}" for item in self.crowd_hot_items), journeys=journeys)
        )

    # --- HTTP bursts ------------------------------------------------------------------------

    def burst(self, scenario: Scenario, *, duration_s: int, server: Gunicorn | None = None) -> Burst:
        config = self.config
        if server is not None:
            server.wait_idle()
        journey = scenario.journeys[min(scenario.used, len(scenario.journeys) - 1)] if scenario.journeys else None
        path = scenario.next_path()
        self.burst_paths.setdefault(scenario.name, []).append(path)
        meter = self.cpu_meter(server)
        before = meter.read() if meter else None
        burst = run_wrk(
            url=config.base_url,
            shoppers_file=self.shoppers_file,
            method=scenario.method,
            path=path,
            body=scenario.body,
            threads=config.wrk_threads,
            connections=config.wrk_connections,
            duration_s=duration_s,
            location_prefix=scenario.expect_location,
            journey=journey,
        )
        if meter is not None:
            burst = replace(burst, cpu_us=meter.per_request(before, meter.read(), burst.requests))
        self.requests_by_path[path] = self.requests_by_path.get(path, 0) + burst.requests
        return burst

    def cpu_meter(self, server: Gunicorn | None) -> CpuMeter | None:
        """What each process group spends per request during a burst (Linux only)."""
        if server is None or server.process is None or not Path("/proc/stat").exists():
            return None
        if self.redis_pid is None:
            self.redis_pid = int(self.redis.info("server").get("process_id", 0)) or None
        return CpuMeter(web_pids=server.worker_pids, redis_pid=self.redis_pid)

    def run_http(self, server: Gunicorn, scenarios: list[Scenario]) -> dict[str, list[Burst]]:
        config = self.config
        warm: dict[str, Burst] = {}
        self.burst_paths = {}
        if config.warmup_s:
            for scenario in scenarios:
                if scenario.warm:
                    warm[scenario.name] = self.burst(scenario, duration_s=config.warmup_s, server=server)
        self.burst_paths = {}
        self.load_sellout(warm.get("reserve"))
        results: dict[str, list[Burst]] = {s.name: [] for s in scenarios}
        for round_index in range(config.rounds):
            for scenario in scenarios:
                burst = self.burst(scenario, duration_s=config.duration_s, server=server)
                results[scenario.name].append(burst)
                self.log(
                    f"round {round_index + 1}/{config.rounds} {scenario.name:<16} {burst.rps:9.1f} req/s  "
                    f"p50 {burst.p50_ms:6.2f} ms  p99 {burst.p99_ms:6.2f} ms  statuses {burst.statuses}"
                    + (f"  socket errors {burst.socket_errors}" if burst.socket_errors else "")
                    + (f"  redirects elsewhere {burst.redirects_other}" if burst.redirects_other else "")
                )
        return results

    def load_sellout(self, warm: Burst | None) -> None:
        """Load the sell-out items with about a quarter of what one burst sells at the warm-up's rate."""
        from bench import seed

        if self.sellout_session is None or self.sellout_units is not None:
            return
        units = self.config.sellout_units
        if warm is not None and warm.rps:
            units = min(max(int(warm.rps * self.config.duration_s / 4), 100), 100_000)
        seed.load_with_quantity(self.sellout_session, units)
        self.sellout_units = units
        self.log(f"sell-out items loaded with {units} units each")

    def measure_commands(self, name: str) -> dict:
        from bench.checks import count_redis_commands

        scenario = next(s for s in self.scenarios if s.name == name)
        return count_redis_commands(
            self.redis,
            port=self.config.port,
            shoppers=self.shoppers,
            method=scenario.method,
            path=self.commands_paths[name],
            body=scenario.body,
            # A sale-page request sends hundreds of commands (pipelined): fewer requests suffice.
            # A sale page sends a few commands per request: fewer requests suffice. The stock poll and
            # sold-out clicks send almost none (per-process copies): many requests show the average.
            requests=max(self.config.commands_sample // 10, 10) if name == "sale_page" else self.config.commands_sample,
        )

    def page_bytes(self) -> int | None:
        """The 200-item sale page's size as a logged-in shopper gets it (uncompressed)."""
        import http.client

        path = self.commands_paths.get("sale_page")
        if path is None:
            return None
        session_key, csrf = self.shoppers[0]
        connection = http.client.HTTPConnection("127.0.0.1", self.config.port, timeout=10)
        try:
            connection.request("GET", path, headers={"Cookie": f"sessionid={session_key}; csrftoken={csrf}"})
            answer = connection.getresponse()
            return len(answer.read()) if answer.status == 200 else None
        finally:
            connection.close()

    # --- decision engines -------------------------------------------------------------------

    def run_engines(self) -> dict:
        from bench import checks, hotpath, seed
        from flashsale import clock

        config = self.config
        redis_rounds: list[dict] = []
        pg_rounds: list[dict] = []
        engine_checks: list[dict] = []
        redis_reason = pg_reason = None
        calibration_rounds: list[dict] = []
        for round_index in range(config.engine_rounds):
            if redis_reason is None:
                try:
                    session, (item,) = seed.live_session(
                        f"bench-engine-{round_index}", [(config.engine_requests + 1000, seed.UNLIMITED_PER_USER)]
                    )
                    command = hotpath.engine_command(session.pk, item.pk, now=clock.now_ts())
                    before = self.redis.info("commandstats").get("cmdstat_evalsha", {})
                    result = run_redis_benchmark(
                        redis_url=config.redis_url,
                        clients=config.engine_clients,
                        requests=config.engine_requests,
                        keyspace=10_000,
                        command=command,
                    )
                    after = self.redis.info("commandstats").get("cmdstat_evalsha", {})
                    calls = after.get("calls", 0) - before.get("calls", 0)
                    if calls:
                        # Redis is single-threaded: this is what caps decisions per second per shard.
                        result["server_us_per_call"] = round((after["usec"] - before.get("usec", 0)) / calls, 1)
                    (check,) = checks.check_session_items(
                        self.redis, session.pk, {item.pk: f"engine-{round_index}"}, read_stream=False
                    )
                    # Every call must have decided something: reserved units are the proof the
                    # script ran (an error reply would leave the list untouched).
                    result["reserved"] = check.reserved
                    engine_checks.append(check.as_dict())
                    if check.reserved < config.engine_requests * 0.9:
                        redis_reason = f"only {check.reserved} of {config.engine_requests} calls reserved a unit"
                    redis_rounds.append(result)
                    self.log(f"engine round {round_index + 1}: Lua script {result['rps']:,.0f} decisions/s")
                    hotpath.unload_session(session.pk)
                except hotpath.Unavailable as exc:
                    redis_reason = exc.reason
                except Exception as exc:  # a broken script or tool: report the figure as null, go on
                    redis_reason = f"{type(exc).__name__}: {exc}"[:300]
            try:
                calibration_rounds.append(
                    run_redis_benchmark(
                        redis_url=config.redis_url,
                        clients=config.engine_clients,
                        requests=config.engine_requests,
                        keyspace=10_000,
                        command=calibration.engine_command(self.redis),
                    )
                )
                self.log(f"engine round {round_index + 1}: calibration script {calibration_rounds[-1]['rps']:,.0f}/s")
            except Exception as exc:  # a figure for reading the others: report it as null, go on
                self.warnings.append(f"calibration script: {type(exc).__name__}: {exc}"[:300])
            if pg_reason is None:
                try:
                    pg = run_pgbench(
                        database_url=config.database_url,
                        clients=config.engine_clients,
                        seconds=config.pgbench_seconds,
                        variables={
                            "stock_id": self.pg_engine_row.pk,
                            "min_user": min(self.user_ids),
                            "max_user": max(self.user_ids),
                        },
                    )
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    pg_reason = str(exc)[:300]
                else:
                    pg_rounds.append(pg)
                    self.log(f"engine round {round_index + 1}: PostgreSQL hot row {pg['tps']:,.0f} decisions/s")
        lua_rps = round(median(r["rps"] for r in redis_rounds), 1) if redis_rounds and not redis_reason else None
        pg_tps = round(median(r["tps"] for r in pg_rounds), 1) if pg_rounds and not pg_reason else None
        if redis_reason or pg_reason:
            self.unavailable["engine_vs_pg"] = "; ".join(filter(None, [redis_reason, pg_reason]))
        server_us = [r["server_us_per_call"] for r in redis_rounds if "server_us_per_call" in r]
        calibration_rps = round(median(r["rps"] for r in calibration_rounds), 1) if calibration_rounds else None
        return {
            "calibration_script_per_s": calibration_rps,
            "lua_vs_calibration": _ratio(lua_rps, calibration_rps, 2),
            "calibration_rounds": calibration_rounds,
            "clients": config.engine_clients,
            "lua_server_us_per_decision": round(median(server_us), 1) if server_us else None,
            "lua_decisions_per_s": lua_rps,
            "pg_decisions_per_s": pg_tps,
            "engine_vs_pg": round(lua_rps / pg_tps, 1) if lua_rps and pg_tps else None,
            "lua_rounds": redis_rounds,
            "pg_rounds": pg_rounds,
            "lua_checks": engine_checks,
        }

    # --- the whole run ----------------------------------------------------------------------

    def run(self) -> dict:
        config = self.config
        self.prepare()
        from bench import checks
        from bench.components import measure

        self.log(f"gunicorn {config.gunicorn.label()} on port {config.port}")
        commands: dict[str, dict] = {}
        with Gunicorn(config, config.gunicorn, log_path=config.work_dir / "gunicorn.log") as server:
            http = self.run_http(server, self.scenarios)
            server.wait_idle()
            self.calibration_calls = calibration.calls(self.redis)
            for name in ("reserve", "sale_page", "stock_poll", "sold_out", "floor"):
                if name in self.commands_paths:
                    commands[name] = self.measure_commands(name)
            self.sale_page_bytes = self.page_bytes()
        self.log("consistency check")
        stock_checks = [c.as_dict() for c in checks.peer_stock_checks() if c.name != "engine-pg"]
        self.reserved_by_item: dict[tuple[int, int], int] = {}
        for session_id, items in self.our_items.items():
            found = checks.check_session_items(self.redis, session_id, items)
            stock_checks += [c.as_dict() for c in found]
            for item_id, check in zip(items, found, strict=True):
                self.reserved_by_item[(session_id, item_id)] = check.reserved
        sql_by_path, sql_samples = checks.sql_queries_by_path(self.redis)

        engines = self.run_engines()
        stock_checks.append(checks.check_peer_stock(self.pg_engine_row).as_dict())
        stock_checks += engines.pop("lua_checks")

        components = {}
        if not config.components:
            for key in (
                "ingest_products_per_s",
                "session_load_s",
                "reconcile_100k_s",
                "waiting_admissions_per_s",
                "lua_instructions_per_decision",
            ):
                self.unavailable[key] = "skipped (--no-components)"
        else:
            # Each gets an equal share of what is left, so the quicker ones come first: what one
            # leaves of its share goes to those after it. The reconciliation, which first seeds
            # 100,000 transactions (a minute on a slow machine), comes last and gets the rest.
            planned = (
                ("lua_instructions_per_decision", "lua_instructions", (config.lua_instruction_decisions,)),
                ("waiting_admissions_per_s", "waiting_room", (config.waiting_shoppers, config.waiting_rate)),
                ("ingest_products_per_s", "ingest", (config.ingest_records,)),
                ("session_load_s", "session_load", (config.session_load_items, config.session_load_units)),
                ("reconcile_100k_s", "reconcile", (config.reconcile_transactions,)),
            )
            for index, (key, name, sizes) in enumerate(planned):
                left = config.budget_s - (time.monotonic() - self.started)
                timeout = min(config.component_timeout_s, left / (len(planned) - index))
                self.log(f"component {name} {sizes} (at most {timeout:.0f}s)")
                components[key] = measure(config, name, *sizes, timeout_s=timeout)
                if components[key]["value"] is None:
                    self.unavailable[key] = components[key]["reason"]
                self.log(f"component {name}: {components[key]}")
            # The 10-million-unit session load leaves a large list behind: free the memory.
            self.redis.flushdb()
        return self.report(http, commands, stock_checks, sql_by_path, sql_samples, engines, components)

    def count_replays(self, http: dict[str, list[Burst]], scenarios: dict[str, dict]) -> None:
        """Reserve answers that were idempotent replays, not new reservations (should be none)."""
        for name in ("reserve", "reserve_sellout"):
            if name not in http:
                continue
            paths = set(self.burst_paths.get(name, []))
            new = sum(self.reserved_by_item.get(self.path_items[path], 0) for path in paths)
            redirected = scenarios[name]["redirects_expected"]
            scenarios[name]["new_reservations"] = new
            scenarios[name]["replayed"] = max(0, redirected - new)
            if redirected and scenarios[name]["replayed"] > redirected / 100:
                self.warnings.append(
                    f"{name}: {scenarios[name]['replayed']} of {redirected} successful answers replayed an "
                    "earlier reservation: more shoppers (BENCH_SHOPPERS) are needed for a burst this fast"
                )
            if scenarios[name]["redirects_other"]:
                self.warnings.append(
                    f"{name}: {scenarios[name]['redirects_other']} redirects went elsewhere than the checkout"
                )

    def crowd_figures(self, scenarios: dict[str, dict]) -> dict:
        """Machine CPU per request of each scenario against the floor's, and the crowd's per journey.

        CPU per request holds on a noisy machine where requests per second move ±20-50%.
        """

        def machine(name: str) -> float | None:
            return (scenarios.get(name, {}).get("cpu_us_per_request") or {}).get("machine")

        figures: dict = {}
        floor, floor_hot = machine("floor"), machine("floor_hot")
        for name, summary in scenarios.items():
            summary["cpu_vs_floor"] = _ratio(machine(name), floor, 2)
            figures[f"{name}_cpu_vs_floor"] = summary["cpu_vs_floor"]
        figures["sold_out_cpu_vs_floor_hot"] = _ratio(machine("sold_out"), floor_hot, 2)
        figures["stock_poll_cpu_vs_floor_hot"] = _ratio(machine("stock_poll"), floor_hot, 2)
        figures["reserve_cpu_vs_floor_redis"] = _ratio(machine("reserve"), machine("floor_redis"), 2)
        crowd = scenarios.get("crowd", {})
        per_request, journeys = machine("crowd"), crowd.get("journeys")
        if per_request is not None and journeys:
            figures["crowd_us_per_journey"] = round(per_request * crowd["requests"] / journeys, 1)
            figures["crowd_vs_floor"] = _ratio(figures["crowd_us_per_journey"], 12 * floor if floor else None, 2)
        else:
            figures["crowd_us_per_journey"] = figures["crowd_vs_floor"] = None
        return figures

    def report(self, http, commands, stock_checks, sql_by_path, sql_samples, engines, components) -> dict:
        config = self.config
        scenarios = {name: summarize(bursts) for name, bursts in http.items()}
        by_name = {s.name: s for s in self.scenarios}
        self.count_replays(http, scenarios)
        if "floor_redis" in scenarios:
            # Script runs counted by Redis (warm-up included): the view really made its round trip.
            scenarios["floor_redis"]["script_calls"] = self.calibration_calls

        def figure(name: str, field: str):
            return scenarios.get(name, {}).get(field)

        floor_rps, reserve_rps, peer_rps = figure("floor", "rps"), figure("reserve", "rps"), figure("peer", "rps")
        # Every request to a reserve, sale-page or stock-poll path, warm-ups and command counts included.
        hot_paths = {
            *self.path_items,
            *getattr(self, "crowd_paths", ()),
            *(self.commands_paths[name] for name in ("sale_page", "stock_poll") if name in self.commands_paths),
        }
        hot_requests = sum(n for path, n in self.requests_by_path.items() if path in hot_paths)
        hot_requests += sum(
            commands[n]["requests"] for n in ("reserve", "sale_page", "stock_poll", "sold_out") if n in commands
        )
        hot_queries = sum(sql_by_path.get(path, 0) for path in hot_paths)
        peer_path = by_name["peer"].path
        peer_requests = self.requests_by_path.get(peer_path, 0)
        oversold = sum(c["oversold"] for c in stock_checks)
        crowd = self.crowd_figures(scenarios)
        result = {
            "floor_rps": floor_rps,
            "reserve_rps": reserve_rps,
            "peer_rps": peer_rps,
            "sale_page_rps": figure("sale_page", "rps"),
            "reserve_sellout_rps": figure("reserve_sellout", "rps"),
            "reserve_vs_floor": _ratio(reserve_rps, floor_rps, 3),
            "floor_hot_rps": figure("floor_hot", "rps"),
            "reserve_vs_floor_hot": _ratio(reserve_rps, figure("floor_hot", "rps"), 3),
            "floor_redis_rps": figure("floor_redis", "rps"),
            "floor_redis_vs_floor_hot": _ratio(figure("floor_redis", "rps"), figure("floor_hot", "rps"), 3),
            "reserve_vs_floor_redis": _ratio(reserve_rps, figure("floor_redis", "rps"), 3),
            "reserve_vs_peer": _ratio(reserve_rps, peer_rps, 2),
            "floor_p99_ms": figure("floor", "p99_ms"),
            "reserve_p99_ms": figure("reserve", "p99_ms"),
            "peer_p99_ms": figure("peer", "p99_ms"),
            "sale_page_p99_ms": figure("sale_page", "p99_ms"),
            "reserve_p99_vs_floor_p99": _ratio(figure("reserve", "p99_ms"), figure("floor", "p99_ms"), 2),
            "floor_hot_p99_ms": figure("floor_hot", "p99_ms"),
            "floor_redis_p99_ms": figure("floor_redis", "p99_ms"),
            "oversold": oversold,
            "consistent": all(c["consistent"] for c in stock_checks),
            "hot_path_sql_queries": round(hot_queries / hot_requests, 3) if hot_requests else None,
            "peer_sql_queries_per_request": round(sql_by_path.get(peer_path, 0) / peer_requests, 2)
            if peer_requests
            else None,
            "redis_commands_per_reserve": commands.get("reserve", {}).get("per_request"),
            "redis_commands_per_sale_page": commands.get("sale_page", {}).get("per_request"),
            "redis_commands_per_stock_poll": commands.get("stock_poll", {}).get("per_request"),
            "redis_commands_per_sold_out_click": commands.get("sold_out", {}).get("per_request"),
            "sale_page_bytes": getattr(self, "sale_page_bytes", None),
            **crowd,
            "stock_poll_rps": figure("stock_poll", "rps"),
            "stock_poll_p99_ms": figure("stock_poll", "p99_ms"),
            "engine_vs_pg": engines["engine_vs_pg"],
            "lua_decisions_per_s": engines["lua_decisions_per_s"],
            "pg_decisions_per_s": engines["pg_decisions_per_s"],
            "lua_server_us_per_decision": engines["lua_server_us_per_decision"],
            # Counted by callgrind: steady where the µs above move with the machine's load.
            "lua_instructions_per_decision": components.get("lua_instructions_per_decision", {}).get("value"),
            "lua_instructions_per_direct_decision": components.get("lua_instructions_per_decision", {}).get("direct"),
            "calibration_script_per_s": engines["calibration_script_per_s"],
            "lua_vs_calibration": engines["lua_vs_calibration"],
            "ingest_products_per_s": components.get("ingest_products_per_s", {}).get("value"),
            "session_load_s": components.get("session_load_s", {}).get("value"),
            "reconcile_100k_s": components.get("reconcile_100k_s", {}).get("value"),
            # 5,000 shoppers wait for a session that opens mid-run (simulated time), admitted at
            # the operator's rate by the real scripts: the mean must match the rate.
            "waiting_admissions_per_s": components.get("waiting_admissions_per_s", {}).get("value"),
            "waiting_room": components.get("waiting_admissions_per_s"),
            "unavailable": {k: v for k, v in self.unavailable.items()},
            "warnings": self.warnings,
            "scenarios": scenarios,
            "paths": {name: paths for name, paths in self.burst_paths.items()},
            "redis_commands": commands,
            "sql_queries_by_path": sql_by_path,
            "sql_samples": sql_samples,
            "stock_checks": stock_checks,
            "engines": engines,
            "components": components,
            "setup": {
                "smoke": config.smoke,
                "rounds": config.rounds,
                "burst_s": config.duration_s,
                "warmup_s": config.warmup_s,
                "wrk": f"-t{config.wrk_threads} -c{config.wrk_connections}",
                "gunicorn": config.gunicorn.label(),
                "shoppers": config.shoppers,
                "hot_units_per_item": config.shoppers + 1000,
                "peer_units": config.peer_units,
                "hot_items": "one per burst (a shopper reserves an item once per sale-page visit)",
                "sellout_units_per_item": self.sellout_units,
                "per_user_limit": "1 (each shopper reserves one unit of an item: the limit never binds)",
                "rate_limits": "FLASHSALE_RESERVE_RATE_USER/IP = 1000000/s (one client IP; never refuses)",
                "sale_page_items": config.sale_page_items,
                "database": config.database_name,
                "redis_db": config.redis_db,
            },
            "machine": machine(),
            "elapsed_s": round(time.monotonic() - self.started, 1),
        }
        result["targets"] = {
            key: {"target": f"{op} {bound}", "met": _meets(result.get(key), op, bound)} for key, op, bound in TARGETS
        }
        for key in list(self.unavailable):
            result.setdefault(key, None)
            if result.get(key) is not None:
                result["unavailable"].pop(key, None)
        return result


def _meets(value, op: str, bound) -> bool | None:
    if value is None:
        return None
    return {">=": value >= bound, "<=": value <= bound, "==": value == bound}[op]


def _ratio(a, b, digits: int):
    return round(a / b, digits) if a is not None and b else None


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    wrk_version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[:1]
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "kernel": platform.release(),
        "wrk": wrk_version[0] if wrk_version else "",
    }


TARGETS = [
    # The crowd's requests at the floor's cost (machine CPU per request, see crowd_figures).
    ("crowd_vs_floor", "<=", 1.0),
    ("sale_page_cpu_vs_floor", "<=", 2.0),
    ("sale_page_bytes", "<=", 80_000),
    ("stock_poll_cpu_vs_floor_hot", "<=", 1.0),
    ("sold_out_cpu_vs_floor_hot", "<=", 1.0),
    ("redis_commands_per_stock_poll", "<=", 0.05),
    ("redis_commands_per_sold_out_click", "<=", 0.05),
    # The reserve against the calibration it stands on (one Redis round trip), and its script.
    ("reserve_cpu_vs_floor_redis", "<=", 1.2),
    ("lua_server_us_per_decision", "<=", 30),
    ("engine_vs_pg", ">=", 30),
    ("reserve_vs_peer", ">=", 3.5),
    ("hot_path_sql_queries", "==", 0),
    ("redis_commands_per_reserve", "<=", 3),
    ("oversold", "==", 0),
]


def print_table(result: dict) -> None:
    cpu_groups = ("web", "redis", "postgres", "wrk", "machine")
    rows = [
        (
            "scenario",
            "req/s",
            "p50 ms",
            "p99 ms",
            "requests",
            "non-2xx/3xx",
            "socket err",
            *(f"{group} µs" for group in cpu_groups),
        )
    ]
    for name, s in result["scenarios"].items():
        cpu = s.get("cpu_us_per_request") or {}
        rows.append(
            (
                name,
                f"{s['rps']:,.1f}",
                f"{s['p50_ms']:.2f}",
                f"{s['p99_ms']:.2f}",
                str(s["requests"]),
                str(s["non_2xx_3xx"]),
                str(s["socket_errors"]),
                *("-" if cpu.get(group) is None else f"{cpu[group]:,.0f}" for group in cpu_groups),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print()
    for row in rows:
        print("  ".join(cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)))
    print("  (µs columns: CPU time per request of the gunicorn workers, Redis, PostgreSQL, wrk, and the")
    print("  whole machine, medians over the rounds; see bench/cpu.py)")
    print()
    for key in (
        "crowd_us_per_journey",
        "crowd_vs_floor",
        "sale_page_cpu_vs_floor",
        "sale_page_bytes",
        "stock_poll_cpu_vs_floor_hot",
        "sold_out_cpu_vs_floor_hot",
        "redis_commands_per_sold_out_click",
        "reserve_cpu_vs_floor_redis",
        "reserve_vs_floor",
        "reserve_vs_floor_hot",
        "floor_redis_vs_floor_hot",
        "reserve_vs_floor_redis",
        "reserve_vs_peer",
        "reserve_p99_vs_floor_p99",
        "hot_path_sql_queries",
        "redis_commands_per_reserve",
        "redis_commands_per_sale_page",
        "redis_commands_per_stock_poll",
        "lua_decisions_per_s",
        "lua_server_us_per_decision",
        "lua_instructions_per_decision",
        "lua_instructions_per_direct_decision",
        "calibration_script_per_s",
        "lua_vs_calibration",
        "pg_decisions_per_s",
        "engine_vs_pg",
        "ingest_products_per_s",
        "session_load_s",
        "reconcile_100k_s",
        "waiting_admissions_per_s",
        "oversold",
        "consistent",
    ):
        value = result.get(key)
        target = next((f"target {op} {bound}" for k, op, bound in TARGETS if k == key), "")
        met = result["targets"].get(key, {}).get("met")
        target += {True: "  met", False: "  MISSED", None: ""}[met] if target else ""
        reason = result["unavailable"].get(key, "")
        shown = "null" if value is None else value
        print(f"  {key:<30} {shown!s:>12}  {target}{('  (' + reason + ')') if reason else ''}")
    for key, reason in result["unavailable"].items():
        print(f"  not measured: {key}: {reason}")
    print(f"\n  machine: {result['machine']['nproc']} x {result['machine']['cpu']}; elapsed {result['elapsed_s']}s")


def compare_gunicorn(bench: Bench) -> int:
    """Short interleaved bursts of every scenario under each gunicorn option, to choose one."""
    bench.prepare()
    config = bench.config
    # The sell-out items can only sell out once: compared are the scenarios that can repeat.
    scenarios = [s for s in bench.scenarios if s.warm]
    table = []
    for options in GUNICORN_CANDIDATES:
        with Gunicorn(config, options, log_path=config.work_dir / "gunicorn.log") as server:
            results = bench.run_http(server, scenarios)
        summary = {name: summarize(bursts) for name, bursts in results.items()}
        table.append((options.label(), summary))
        bench.log(
            f"{options.label():<14} "
            + "  ".join(f"{n} {s['rps']:,.0f}/s p99 {s['p99_ms']:.1f}ms" for n, s in summary.items())
        )
    print()
    for label, summary in table:
        print(
            f"  {label:<14} "
            + "  ".join(f"{n} {s['rps']:>8,.0f}/s p99 {s['p99_ms']:6.1f}ms" for n, s in summary.items())
        )
    return 0


def profile_reserve(bench: Bench, *, seconds: int, scenario_name: str = "reserve") -> int:
    """Sample the gunicorn workers with py-spy during a reserve burst; print where the time goes."""
    import shutil
    import threading
    from collections import Counter

    py_spy = shutil.which("py-spy")
    if not py_spy:
        raise BenchError("py-spy is not installed: pip install py-spy")
    bench.prepare()
    config = bench.config
    by_name = {s.name: s for s in bench.scenarios}
    if scenario_name not in by_name:
        raise BenchError(f"no scenario {scenario_name!r} to profile (have: {', '.join(by_name)})")
    scenario = by_name[scenario_name]
    raw = config.work_dir / f"profile-{scenario.name}.txt"
    with Gunicorn(config, config.gunicorn, log_path=config.work_dir / "gunicorn.log") as server:
        bench.burst(scenario, duration_s=2)
        spy = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(server.process.pid),
                "--subprocesses",
                "--rate",
                "250",
                "--duration",
                str(seconds),
                "--format",
                "raw",
                "--output",
                str(raw),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        load = threading.Thread(target=bench.burst, args=(scenario,), kwargs={"duration_s": seconds})
        load.start()
        load.join()
        spy.wait(timeout=seconds + 30)
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue  # a frame whose name spans lines (py-spy writes names as they are)
        frames = [f for f in stack.split(";") if f and not f.startswith("process ")]
        n = int(count)
        total += n
        for frame in set(frames):
            inclusive[_short(frame)] += n
        if frames:
            leaf[_short(frames[-1])] += n
    print(f"\n{total} samples of the gunicorn workers during a {seconds}s {scenario.name} burst ({raw})")
    print("\ninclusive (time inside the function and what it calls):")
    for frame, n in inclusive.most_common(45):
        print(f"  {100 * n / total:5.1f}%  {frame}")
    print("\nself (time in the function itself):")
    for frame, n in leaf.most_common(25):
        print(f"  {100 * n / total:5.1f}%  {frame}")
    return 0


def _short(frame: str) -> str:
    # "func (path/to/module.py:123)" -> "func (module path relative to the site or site-packages)"
    for marker in ("site-packages/", str(BASE_DIR) + "/", "lib/python3"):
        if marker in frame:
            head, _, tail = frame.partition(marker)
            return head + tail.split(":")[0] + ")" if ":" in tail else frame
    return frame


def main(args: argparse.Namespace) -> int:
    """The whole run (``bench.cli`` parses the options)."""
    config = load_config(smoke=args.smoke)
    if args.no_components:
        config = replace(config, components=False)
    bench = Bench(config, bursts_per_scenario=2 if args.profile else None)
    try:
        if args.compare_gunicorn:
            rounds = int(os.environ.get("BENCH_ROUNDS", 2))
            duration = int(os.environ.get("BENCH_DURATION", 5))
            compare = replace(config, rounds=rounds, duration_s=duration)
            bursts = (rounds + (1 if compare.warmup_s else 0)) * len(GUNICORN_CANDIDATES)
            return compare_gunicorn(Bench(compare, bursts_per_scenario=bursts))
        if args.profile:
            return profile_reserve(bench, seconds=args.profile, scenario_name=args.scenario)
        result = bench.run()
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    config.output.parent.mkdir(parents=True, exist_ok=True)
    config.output.write_text(json.dumps(result, indent=2) + "\n")
    print_table(result)
    print(f"\n  figures written to {config.output}")
    if result["oversold"] or not result["consistent"]:
        print("bench: FAILED: units oversold or unaccounted for (see stock_checks)", file=sys.stderr)
        return 1
    return 0
