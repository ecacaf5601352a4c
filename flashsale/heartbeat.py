"""Heartbeat files: a long-running process touches one as it works; a container healthcheck reads its age.

``python -m flashsale.heartbeat PATH --max-age SECONDS`` exits 0 when PATH was touched within
the last SECONDS, 1 (saying why) otherwise. Beat's scheduler (``flashsale.beat``) and
``manage.py drain_transactions --follow --heartbeat-file PATH`` write them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def touch(path: str | os.PathLike) -> None:
    """Mark ``path`` as written now (created if missing)."""
    Path(path).touch()


def age_seconds(path: str | os.PathLike, *, now: float | None = None) -> float | None:
    """Seconds since ``path`` was last touched; None when it does not exist."""
    try:
        modified = os.stat(path).st_mtime
    except FileNotFoundError:
        return None
    return (time.time() if now is None else now) - modified


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Exit 0 if a heartbeat file is fresh, 1 if it is stale or missing.")
    parser.add_argument("path")
    parser.add_argument("--max-age", type=float, required=True, help="Seconds after which the process counts as stuck.")
    args = parser.parse_args(argv)
    age = age_seconds(args.path)
    if age is None:
        print(f"{args.path}: no heartbeat yet", file=sys.stderr)
        return 1
    if age > args.max_age:
        print(f"{args.path}: last heartbeat {age:.0f}s ago (more than {args.max_age:g}s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
