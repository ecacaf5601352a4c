"""One loader for every Lua script: read once per process, called by EVALSHA, reloaded on NOSCRIPT.

Scripts live in files beside the module that calls them (``reservations/lua/reserve.lua``...),
each with its contract (KEYS, ARGV, reply) in a header comment. A module declares the scripts it
runs once, at import::

    RESERVE = lua_script(LUA_DIR / "reserve.lua")
    reply = RESERVE(keys=[...], args=[...])          # on sale_redis()
    RESERVE(keys=[...], args=[...], client=pipeline)  # queued in a pipeline

The SHA is computed from the file's bytes, so no client is needed to declare a script; redis-py's
``Script`` sends EVALSHA and loads the script when the server answers NOSCRIPT (a restarted or
fresh Redis, a new cluster node). Scripts never call TIME: callers pass ``now`` in.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redis.commands.core import Script

from flashsale.store.client import sale_redis

ScriptArg = str | int | float | bytes


class LuaScript:
    """A script file registered once per process; call it with keys, args and optionally a client."""

    def __init__(self, path: Path):
        self.path = path
        self.name = path.stem
        self._source = path.read_bytes()
        # A Script without a client: the SHA comes from the bytes and every call passes its client.
        self._script = Script(None, self._source)  # type: ignore[arg-type]  # redis-py accepts None here

    @property
    def sha(self) -> str:
        return str(self._script.sha)

    @property
    def source(self) -> bytes:
        return self._source

    def __call__(self, *, keys: Sequence[str], args: Sequence[ScriptArg], client: Any = None) -> Any:
        return self._script(keys=list(keys), args=list(args), client=client if client is not None else sale_redis())

    def queue(self, pipeline: Any, *, keys: Sequence[str], args: Sequence[ScriptArg]) -> None:
        """Add a run of the script to ``pipeline`` without an extra round trip.

        Called through a pipeline, redis-py's ``Script`` first asks ``SCRIPT EXISTS`` when the
        pipeline executes: one more round trip. EVAL with the source avoids it; the server keeps
        the compiled script under its SHA, so what this costs is hashing the source.
        """
        pipeline.eval(self._source, len(keys), *keys, *args)

    def __repr__(self) -> str:
        return f"LuaScript({self.name})"


@functools.cache
def lua_script(path: Path) -> LuaScript:
    """The process's one ``LuaScript`` for ``path`` (declaring it twice gives the same object)."""
    return LuaScript(path.resolve())
