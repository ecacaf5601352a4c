"""The sale store's ground floor: the Redis client(s), the key registry, the Lua script loader and
the named decoding of script replies.

Apps stand on it (``plans``, ``reservations``, ``reconciliation``); it imports no app, only Django
settings and redis-py. Modules: ``client`` (which Redis holds the sale data), ``keys`` (one function
per key), ``scripts`` (one loader for every Lua script, EVALSHA with NOSCRIPT fallback) and
``replies`` (bytes to values, and script replies to dataclasses by field name).
"""
