"""After the bursts: was every unit accounted for, how many SQL queries and Redis commands per request."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass

from django.db.models import Sum

from bench.models import PeerStock
from bench.sql_counting import SQL_COUNTS_KEY, SQL_SAMPLES_KEY
from flashsale.store import keys

STREAM_PAGE = 10_000


@dataclass(frozen=True)
class StockCheck:
    """Units reserved + units remaining against units allocated, for one item."""

    name: str
    allocated: int
    reserved: int
    remaining: int
    duplicates: int = 0
    counted_held: int | None = None

    @property
    def oversold(self) -> int:
        return max(0, self.reserved - self.allocated) + self.duplicates

    @property
    def consistent(self) -> bool:
        held_ok = self.counted_held is None or self.counted_held == self.reserved
        return self.reserved + self.remaining == self.allocated and self.duplicates == 0 and held_ok

    def as_dict(self) -> dict:
        return {**asdict(self), "oversold": self.oversold, "consistent": self.consistent}


def _reserved_units_by_item(redis, session_id: int) -> dict[str, list[str]]:
    """Every unit the session's reservation stream recorded, per item (read independently of counts)."""
    units: dict[str, list[str]] = {}
    start = "-"
    while True:
        page = redis.xrange(keys.stream(session_id), min=start, max="+", count=STREAM_PAGE)
        entries = [{_text(k): _text(v) for k, v in fields.items()} for _, fields in page]
        # "reserved" = the TransactionID; earlier releases wrote type = reserved, txn = the id.
        reserved = [fields.get("reserved") or fields["txn"] for fields in entries if _is_reservation(fields)]
        # A reservation's stream entry names its TransactionID; the units are in the txn's hash.
        pipe = redis.pipeline(transaction=False)
        for txn_id in reserved:
            pipe.hmget(keys.txn(session_id, txn_id), ["item", "units"])
        for item, held_units in pipe.execute():
            units.setdefault(_text(item), []).extend(json.loads(_text(held_units)))
        if len(page) < STREAM_PAGE:
            return units
        start = "(" + _text(page[-1][0])


def _is_reservation(fields: dict[str, str]) -> bool:
    return fields.get("type") == "reserved" or ("reserved" in fields and "type" not in fields)


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def check_session_items(redis, session_id: int, items: dict[int, str], *, read_stream: bool = True) -> list[StockCheck]:
    """The Redis side: stream units (unique) + stock list length against the loaded quantity.

    Without ``read_stream`` the reserved units are the item's ``held`` counter (a quick check
    for the decision-engine runs, whose streams are large and not what is being verified).
    """
    by_item = _reserved_units_by_item(redis, session_id) if read_stream else {}
    checks = []
    for item_id, name in items.items():
        allocated = int(redis.hget(keys.loaded(session_id), str(item_id)) or 0)
        held = redis.hget(keys.counts(session_id, item_id), "held")
        held = int(held) if held is not None else None
        reserved = by_item.get(str(item_id), []) if read_stream else None
        checks.append(
            StockCheck(
                name=name,
                allocated=allocated,
                reserved=len(reserved) if reserved is not None else held or 0,
                remaining=redis.llen(keys.stock(session_id, item_id)),
                duplicates=len(reserved) - len(set(reserved)) if reserved is not None else 0,
                counted_held=held,
            )
        )
    return checks


def check_peer_stock(stock: PeerStock) -> StockCheck:
    stock.refresh_from_db()
    reserved = stock.reservations.aggregate(total=Sum("quantity"))["total"] or 0
    return StockCheck(name=stock.name, allocated=stock.allocated, reserved=reserved, remaining=stock.remaining)


def sql_queries_by_path(redis) -> tuple[dict[str, int], list[str]]:
    counts = {_text(k): int(v) for k, v in redis.hgetall(SQL_COUNTS_KEY).items()}
    samples = [_text(s) for s in redis.lrange(SQL_SAMPLES_KEY, 0, -1)]
    return counts, samples


# Commands a measuring connection sends for itself, not the site.
OWN_COMMANDS = {"info", "monitor", "echo", "select", "client", "hello", "ping"}
MONITOR_STOP = "bench-monitor-stop"


def _commandstats(redis) -> dict[str, int]:
    return {name.removeprefix("cmdstat_"): stats["calls"] for name, stats in redis.info("commandstats").items()}


def _wait_until_quiet(
    lock: threading.Lock, last_event: list[float], *, quiet_s: float = 0.5, limit_s: float = 15
) -> None:
    """Wait for requests a burst left queued in gunicorn to finish (no command on the db for a while)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with lock:
            idle = time.monotonic() - last_event[0]
        if idle >= quiet_s:
            return
        time.sleep(quiet_s - idle)


def count_redis_commands(
    redis, *, port: int, shoppers: list[tuple[str, str]], method: str, path: str, body: str, requests: int
) -> dict:
    """Redis commands the site sends per request, for ``requests`` requests spread over ``shoppers``.

    Two readings: MONITOR lines of the bench's db minus those a Lua script issued (commands the
    web process sends; exact even when other databases of the server are busy), and the server's
    INFO commandstats difference (every command, script-internal ones included, server-wide).
    """
    db = redis.connection_pool.connection_kwargs.get("db", 0)
    seen: Counter[str] = Counter()
    inside_scripts: Counter[str] = Counter()
    ready = threading.Event()
    lock = threading.Lock()
    last_event = [time.monotonic()]

    def watch():
        with redis.monitor() as monitor:
            ready.set()
            for event in monitor.listen():
                command = event["command"]
                if MONITOR_STOP in command:
                    return
                if int(event.get("db", -1)) != db:
                    continue
                name = command.split(" ", 1)[0].strip('"').lower()
                with lock:
                    last_event[0] = time.monotonic()
                    if event.get("client_type") == "lua":
                        inside_scripts[name] += 1
                    else:
                        seen[name] += 1

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    ready.wait(5)
    _wait_until_quiet(lock, last_event)
    with lock:
        seen.clear()
        inside_scripts.clear()
    before = _commandstats(redis)
    statuses: Counter[int] = Counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        for n in range(requests):
            session_key, csrf = shoppers[n % len(shoppers)]
            headers = {"Cookie": f"sessionid={session_key}; csrftoken={csrf}", "X-CSRFToken": csrf}
            if method == "POST":
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body if method == "POST" else None, headers=headers)
            response = connection.getresponse()
            response.read()
            statuses[response.status] += 1
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    finally:
        connection.close()
    redis.echo(MONITOR_STOP)
    watcher.join(10)
    after = _commandstats(redis)
    server_wide = {
        name: after.get(name, 0) - before.get(name, 0)
        for name in after
        if name not in OWN_COMMANDS and after.get(name, 0) - before.get(name, 0) > 0
    }
    seen = Counter({name: count for name, count in seen.items() if name not in OWN_COMMANDS})
    return {
        "requests": requests,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "per_request": round(sum(seen.values()) / requests, 2),
        "by_command": {name: round(count / requests, 2) for name, count in seen.most_common()},
        "inside_scripts_per_request": round(sum(inside_scripts.values()) / requests, 2),
        "server_commandstats_per_request": round(sum(server_wide.values()) / requests, 2),
        "server_commandstats_by_command": {
            name: round(count / requests, 2) for name, count in sorted(server_wide.items(), key=lambda i: -i[1])
        },
    }


def peer_stock_checks() -> list[StockCheck]:
    return [check_peer_stock(stock) for stock in PeerStock.objects.order_by("pk")]
