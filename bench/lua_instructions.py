"""Redis instructions per reserve decision, counted by callgrind (``make bench``'s ``lua_instructions``).

``lua_server_us_per_decision`` (the engine rounds) is wall-clock time inside Redis: on a shared VM
it moves with CPU steal and with what else runs on the two cores (45-64 µs for the same script
in one evening). The number of instructions Redis executes per decision does not: it is the same
within about 1% run after run, whatever the other core does, so it shows what a change to
``reservations/lua/reserve.lua`` saved.

A ``redis-server`` of our own runs under ``valgrind --tool=callgrind`` on a free loopback port. A
session loaded into the bench's Redis is copied into it (DUMP/RESTORE), then the site's own
``reservations.holds.reserve`` decides ``decisions`` new reservations for distinct shoppers twice:

- ``ticket``: the path of a click on the site (the quick path, ``services.decide_by_ticket``): the
  script reads the shopper's reserve ticket;
- ``direct``: the caller names the shopper and the TransactionID (the session fallback, tools, and
  the engine rounds' ``redis-benchmark`` line).

Each figure is every instruction Redis ran between two callgrind dumps divided by the decisions:
the script, the commands it calls, and reading the request and writing the reply (the kernel's
part of the network is not counted). By hand: ``python -m bench.components lua_instructions 1000``
with the site's environment (``bench.infra.site_environment``).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis
from ulid import ULID

from bench import hotpath, seed
from flashsale import clock

START_TIMEOUT_S = 60


def measure_lua_instructions(decisions: int = 1000) -> dict:
    """{"value": instructions per ticket decision, "direct": per direct decision, ...}."""
    for tool in ("valgrind", "callgrind_control", "redis-server"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed")

    # Units for the warm-up and both measured runs, and a few to spare.
    session, (item,) = seed.live_session(f"bench-instructions-{ULID()}", [(3 * decisions + 200, 10**6)])
    with _CallgrindRedis() as counted:
        _copy_session(hotpath.sale_redis(), counted.client, hotpath.session_keys(session.pk))
        now = clock.now_ts()
        next_user = iter(range(900_000_000, 1_000_000_000))

        def shoppers_with_tickets(count: int) -> list[str]:
            entries = [
                (session.pk, f"bench-instructions-{user_id}", hotpath.new_ticket(user_id, now=now))
                for user_id in (next(next_user) for _ in range(count))
            ]
            hotpath.store_tickets(entries, client=counted.client)
            return [session_key for _, session_key, _ in entries]

        def decide(shopper) -> None:
            reservation = hotpath.reserve_one(session.pk, item.pk, shopper, now=clock.now_ts(), client=counted.client)
            if reservation.replayed:
                raise RuntimeError("a decision replayed an earlier one: the count would not be of new holds")

        for session_key in shoppers_with_tickets(100):  # warm: scripts loaded, keys and allocator in use
            decide(hotpath.ticket_holder(session_key))
        session_keys = shoppers_with_tickets(decisions)
        counted.dump()
        for session_key in session_keys:
            decide(hotpath.ticket_holder(session_key))
        ticket = counted.dump() / decisions
        users = [next(next_user) for _ in range(decisions)]
        counted.dump()
        for user_id in users:
            decide(hotpath.known_shopper(user_id, str(ULID())))
        direct = counted.dump() / decisions
    hotpath.unload_session(session.pk)
    return {"value": round(ticket), "direct": round(direct), "decisions": decisions}


def _copy_session(source, target, session_keys: list[str]) -> None:
    """Every key of the session with its time to live."""
    copied = 0
    for key in session_keys:
        payload = source.dump(key)
        if payload is None:
            continue
        ttl = source.pttl(key)
        target.restore(key, max(ttl, 0), payload, replace=True)
        copied += 1
    if not copied:
        raise RuntimeError("the session has no keys in Redis")


class _CallgrindRedis:
    """A ``redis-server`` under callgrind on a free loopback port, stopped and removed on exit."""

    def __enter__(self) -> _CallgrindRedis:
        self.directory = Path(tempfile.mkdtemp(prefix="bench-callgrind-"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={self.directory}/callgrind.out",
                "redis-server",
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = redis.Redis(host="127.0.0.1", port=port)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError("redis-server under callgrind did not start") from None
                time.sleep(0.2)  # the server is starting under valgrind: nothing to wait on but its port
        self.dumps = 0
        return self

    def dump(self) -> int:
        """Instructions since the last dump (callgrind zeroes its counters at each dump)."""
        subprocess.run(["callgrind_control", "--dump", str(self.process.pid)], check=True, capture_output=True)
        self.dumps += 1
        # callgrind names the n-th dump "<out>.<n>" and writes it before callgrind_control returns.
        path = self.directory / f"callgrind.out.{self.dumps}"
        for line in path.read_text().splitlines():
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
        raise RuntimeError(f"{path} has no instruction total")

    def __exit__(self, *exc) -> None:
        try:
            self.client.shutdown(nosave=True)
        except redis.RedisError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
