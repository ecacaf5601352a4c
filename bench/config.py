"""What a bench run does and where: read from the environment, with a smoke variant for the test."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/flashsale_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"
DEFAULT_PORT = 18500


@dataclass(frozen=True)
class GunicornOptions:
    workers: int = 3
    worker_class: str = "sync"
    threads: int = 1

    def label(self) -> str:
        if self.worker_class == "gthread":
            return f"gthread {self.workers}x{self.threads}"
        return f"{self.worker_class} x{self.workers}"

    def args(self) -> list[str]:
        args = ["--workers", str(self.workers), "--worker-class", self.worker_class]
        if self.worker_class == "gthread":
            args += ["--threads", str(self.threads)]
        return args


@dataclass(frozen=True)
class BenchConfig:
    database_url: str
    redis_url: str
    port: int
    output: Path
    work_dir: Path
    smoke: bool = False
    rounds: int = 3
    duration_s: int = 7
    warmup_s: int = 2
    wrk_threads: int = 2
    wrk_connections: int = 32
    # A shopper reserves an item once per sale-page visit: a burst needs more shoppers than requests.
    shoppers: int = 30_000
    gunicorn: GunicornOptions = GunicornOptions()
    sale_page_items: int = 200
    sellout_units: int = 3000
    # The peer's hot stock row (every peer request is a new reservation: no idempotency there).
    peer_units: int = 400_000
    engine_clients: int = 32
    engine_requests: int = 100_000
    pgbench_seconds: int = 5
    engine_rounds: int = 2
    commands_sample: int = 500
    ingest_records: int = 20_000
    session_load_items: int = 1000
    session_load_units: int = 10_000
    reconcile_transactions: int = 100_000
    waiting_shoppers: int = 5000
    waiting_rate: int = 100
    # Reserve decisions counted by callgrind per path (bench/lua_instructions.py).
    lua_instruction_decisions: int = 500
    component_timeout_s: int = 150
    # The whole run must stay under 10 minutes: component measurements share what is left of this.
    budget_s: int = 560
    components: bool = True

    @property
    def database_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/")

    @property
    def redis_db(self) -> int:
        path = urlsplit(self.redis_url).path.lstrip("/")
        return int(path) if path else 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _gunicorn_from_env() -> GunicornOptions:
    defaults = GunicornOptions()
    return GunicornOptions(
        workers=int(os.environ.get("BENCH_GUNICORN_WORKERS", defaults.workers)),
        worker_class=os.environ.get("BENCH_GUNICORN_WORKER_CLASS", defaults.worker_class),
        threads=int(os.environ.get("BENCH_GUNICORN_THREADS", defaults.threads)),
    )


def load_config(*, smoke: bool = False) -> BenchConfig:
    output = Path(os.environ.get("BENCH_OUTPUT", BASE_DIR / "var" / ("bench-smoke.json" if smoke else "bench.json")))
    config = BenchConfig(
        database_url=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        redis_url=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        port=int(os.environ.get("BENCH_PORT", DEFAULT_PORT)),
        output=output,
        work_dir=output.parent / "bench",
        gunicorn=_gunicorn_from_env(),
    )
    if smoke:
        # A 2-second burst per scenario and small component runs: proves the code runs, not speed.
        config = replace(
            config,
            smoke=True,
            rounds=1,
            duration_s=2,
            warmup_s=0,
            wrk_connections=8,
            shoppers=2000,
            sale_page_items=20,
            sellout_units=200,
            peer_units=60_000,
            engine_clients=8,
            engine_requests=5_000,
            pgbench_seconds=2,
            engine_rounds=1,
            commands_sample=50,
            ingest_records=200,
            session_load_items=10,
            session_load_units=100,
            reconcile_transactions=500,
            waiting_shoppers=200,
            waiting_rate=20,
            lua_instruction_decisions=100,
            component_timeout_s=60,
        )
    rounds = os.environ.get("BENCH_ROUNDS")
    duration = os.environ.get("BENCH_DURATION")
    shoppers = os.environ.get("BENCH_SHOPPERS")
    if shoppers:
        config = replace(config, shoppers=int(shoppers))
    if rounds:
        config = replace(config, rounds=int(rounds))
    if duration:
        config = replace(config, duration_s=int(duration))
    return config
