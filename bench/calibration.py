"""The calibration script (``lua/one_round_trip.lua``): one Redis round trip doing almost nothing.

It tells what this machine charges for the round trip alone, over HTTP (the ``floor_redis``
scenario) and without (redis-benchmark beside the reserve script), so the reserve's figures
can be read against the least any Redis-backed decision costs here.
"""

from __future__ import annotations

from pathlib import Path

from redis.commands.core import Script

from flashsale.store.client import sale_redis

SCRIPT = Script(None, (Path(__file__).resolve().parent / "lua" / "one_round_trip.lua").read_bytes())
# One hash tag: both keys in one slot, should the site run on a Redis Cluster.
UNITS_KEY = "bench:{calibration}:units"
CALLS_KEY = "bench:{calibration}:calls"
UNITS = 1000


def keys() -> list[str]:
    return [UNITS_KEY, CALLS_KEY]


def seed(client) -> None:
    """The units the script rotates through (every call finds one)."""
    client.delete(UNITS_KEY, CALLS_KEY)
    client.rpush(UNITS_KEY, *range(1, UNITS + 1))


def one_round_trip(client=None) -> int:
    unit = SCRIPT(keys=keys(), client=client or sale_redis())
    return int(unit)


def engine_command(client) -> list[str]:
    """The EVALSHA line for redis-benchmark (the script loaded first)."""
    sha = client.script_load(SCRIPT.script)
    return ["EVALSHA", sha, "2", *keys()]


def calls(client) -> int:
    """How many times the script ran since ``seed``."""
    return int(client.get(CALLS_KEY) or 0)
