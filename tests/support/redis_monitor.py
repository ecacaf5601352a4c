"""Which Redis commands a piece of code sends, counted with MONITOR on the test database."""

from __future__ import annotations

import threading

MARKER = "commands-end-marker"
HANDSHAKE = frozenset({"PING", "SELECT", "HELLO", "CLIENT", "AUTH"})


def commands_during(redis_conn, action) -> list[str]:
    """The command names ``action()`` sent to ``redis_conn``'s database, round trips only.

    Commands a Lua script runs show up in MONITOR too (from the "lua" client) and are left out;
    so are PING and a new connection's handshake (HELLO, CLIENT SETINFO, SELECT), which any client
    of the server sends on database 0 before it selects its own.
    """
    db = redis_conn.connection_pool.connection_kwargs.get("db", 0)
    seen: list[str] = []
    ready = threading.Event()

    def listen():
        with redis_conn.monitor() as monitor:
            ready.set()
            for event in monitor.listen():
                if MARKER in event["command"]:
                    return
                if event.get("db") == db and event.get("client_type") != "lua":
                    seen.append(event["command"].split(" ", 1)[0].upper())

    thread = threading.Thread(target=listen)
    thread.start()
    ready.wait()
    # MONITOR is set up once its reply is read; a first ping proves the stream is flowing.
    redis_conn.ping()
    seen.clear()
    action()
    redis_conn.echo(MARKER)
    thread.join(timeout=10)
    return [c for c in seen if c not in HANDSHAKE]
