"""``python -m bench``: the whole run (``make bench``), or one component measured by hand.

    python -m bench [--smoke] [--no-components] [--compare-gunicorn] [--profile SECONDS [--scenario NAME]]
    python -m bench ingest [--count 50000]
    python -m bench session-load [--items 1000] [--units 10000]
    python -m bench reconcile [--count 100000] [--port PORT] [--trace-memory]
    python -m bench waiting-room [--shoppers 5000] [--rate 100]

The component commands run against the environment's database and Redis (``DATABASE_URL``,
``REDIS_URL``, as ``manage.py`` does), create their own rows and keys and remove them afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import resource


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flashsale.settings")
    import django

    django.setup()


def ingest(args: argparse.Namespace) -> int:
    """New products, the same feed again (unchanged), then every price changed: products per second."""
    _setup_django()
    from bench.ingest import ingest_passes

    for one in ingest_passes(args.count):
        print(one.line())
    return 0


def session_load(args: argparse.Namespace) -> int:
    _setup_django()
    from bench.session_load import measure_session_load

    seconds = measure_session_load(args.items, args.units)
    print(f"loaded {args.items} items x {args.units} units into Redis in {seconds:.2f}s")
    return 0


def reconcile(args: argparse.Namespace) -> int:
    _setup_django()
    from bench.reconcile import run_benchmark

    result = run_benchmark(args.count, port=args.port, trace_memory=args.trace_memory)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(result.summary(peak_rss_mb=peak_rss_mb))
    return 0


def waiting_room(args: argparse.Namespace) -> int:
    _setup_django()
    from bench.waiting_room import measure_waiting_room

    print(json.dumps(measure_waiting_room(args.shoppers, args.rate), indent=2))
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from bench import run

    return run.main(args)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.set_defaults(handler=run_bench)
    top.add_argument("--smoke", action="store_true", help="2-second bursts, small sizes: proves the bench runs")
    top.add_argument(
        "--no-components",
        action="store_true",
        help="skip ingest / session load / reconcile / waiting room / Lua instructions",
    )
    top.add_argument("--compare-gunicorn", action="store_true", help="measure gunicorn worker options and stop")
    top.add_argument("--profile", type=int, metavar="SECONDS", help="py-spy the workers during a burst")
    top.add_argument("--scenario", default="reserve", help="the scenario --profile loads (default: reserve)")
    commands = top.add_subparsers(title="one component, by hand", metavar="COMMAND")

    one = commands.add_parser("ingest", help="time the ingest of COUNT synthetic products (create, unchanged, update)")
    one.add_argument("--count", type=int, default=50_000)
    one.set_defaults(handler=ingest)

    one = commands.add_parser("session-load", help="time loading ITEMS items x UNITS units into Redis")
    one.add_argument("--items", type=int, default=1000)
    one.add_argument("--units", type=int, default=10_000)
    one.set_defaults(handler=session_load)

    one = commands.add_parser(
        "reconcile", help="reconcile COUNT synthetic transactions against a real sandbox gateway process"
    )
    one.add_argument("--count", type=int, default=100_000)
    one.add_argument("--port", type=int, default=None, help="sandbox port (default: any free loopback port)")
    one.add_argument(
        "--trace-memory", action="store_true", help="also report the peak Python allocations while reconciling"
    )
    one.set_defaults(handler=reconcile)

    one = commands.add_parser("waiting-room", help="SHOPPERS wait for a session and are admitted at RATE per second")
    one.add_argument("--shoppers", type=int, default=5000)
    one.add_argument("--rate", type=int, default=100)
    one.set_defaults(handler=waiting_room)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.handler(args))
