"""``python -m bench.soak --minutes N --seed S``: one soak run; exit status 0 when every invariant held."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.soak.run import ROOT, SoakOptions, run
from bench.soak.stack import DEFAULT_DATABASE_URL


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=30.0, help="How long the crowd shops (default 30).")
    parser.add_argument("--seed", type=int, default=1, help="Seeds the fault schedule and the crowd (default 1).")
    parser.add_argument("--rate", type=float, default=20.0, help="The crowd's target requests per second (default 20).")
    parser.add_argument("--output-dir", type=Path, default=ROOT / "var" / "soak", help="Where the JSON and PNG go.")
    parser.add_argument(
        "--database-url", default=DEFAULT_DATABASE_URL, help="The soak's own database (dropped and created again)."
    )
    parser.add_argument("--keep-workdir", action="store_true", help="Keep the logs even when every check passed.")
    args = parser.parse_args(argv)
    return run(
        SoakOptions(
            minutes=args.minutes,
            seed=args.seed,
            rate=args.rate,
            output_dir=args.output_dir,
            database_url=args.database_url,
            keep_workdir=args.keep_workdir,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
