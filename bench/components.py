"""Runs one component measurement (``bench/ingest.py``, ``session_load.py``, ``reconcile.py``,
``waiting_room.py``, ``lua_instructions.py``) in its own process, with a time limit.

``python -m bench.components <name> <size...>`` prints one JSON line: {"value": <number>}.
The bench calls it through ``measure()`` so a slow or broken component cannot stall the run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

from bench.config import BASE_DIR, BenchConfig
from bench.infra import site_environment

# name -> (module, function, what the number is)
COMPONENTS = {
    "ingest": ("bench.ingest", "measure_ingest", "products/s"),
    "session_load": ("bench.session_load", "measure_session_load", "seconds"),
    "reconcile": ("bench.reconcile", "measure_reconcile", "seconds"),
    "waiting_room": ("bench.waiting_room", "measure_waiting_room", "admissions/s"),
    "lua_instructions": ("bench.lua_instructions", "measure_lua_instructions", "Redis instructions per decision"),
}


def measure(config: BenchConfig, name: str, *sizes: int, timeout_s: float) -> dict:
    """{"value": number} or {"value": None, "reason": why} for the named component measurement."""
    module, function, unit = COMPONENTS[name]
    timeout_s = int(max(timeout_s, 5))
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "bench.components", name, *map(str, sizes)],
            cwd=BASE_DIR,
            env=site_environment(config),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return {
            "value": None,
            "reason": f"{module}.{function} took longer than {timeout_s}s (time left in the bench's budget)",
        }
    wall = round(time.monotonic() - started, 1)
    line = next((ln for ln in reversed(completed.stdout.splitlines()) if ln.startswith("{")), None)
    if completed.returncode != 0 or line is None:
        tail = (completed.stderr.strip() or completed.stdout.strip()).splitlines()[-1:] or ["no output"]
        return {"value": None, "reason": f"{module}.{function}: {tail[0][:300]}", "wall_s": wall}
    result = json.loads(line)
    result.update(unit=unit, sizes=list(sizes), wall_s=wall)
    return result


def _main(argv: list[str]) -> int:
    import importlib

    import django

    name, sizes = argv[0], [int(a) for a in argv[1:]]
    module, function, _ = COMPONENTS[name]
    django.setup()
    try:
        measured = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        print(f"{module}.{function} is missing: {exc}", file=sys.stderr)
        return 3
    value = measured(*sizes)
    # A measurement returns its number, or a dict with the number under "value" and details.
    details = dict(value) if isinstance(value, dict) else {"value": value}
    details["value"] = round(float(details["value"]), 3)
    print(json.dumps(details))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
