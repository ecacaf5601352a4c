"""Django's live server on the first free loopback port of a suite's range."""

from __future__ import annotations

from collections.abc import Iterable

import pytest


def start_live_server(ports: Iterable[int]):
    """A running ``pytest_django`` LiveServer on the first port of ``ports`` it can bind; call ``stop()``."""
    from pytest_django.live_server_helper import LiveServer

    # Django's live server refuses SO_REUSEADDR, so a port still in TIME_WAIT from the previous
    # run is busy for a minute: take the next free one of the range.
    for port in ports:
        try:
            return LiveServer(f"127.0.0.1:{port}")
        except OSError:
            continue
    raise RuntimeError(f"no free port for the live server in {ports}")


def live_server_fixture(ports: Iterable[int], *, doc: str):
    """A session-scoped ``live_server`` fixture on ``ports`` (overrides pytest-django's), for a conftest:
    ``live_server = live_server_fixture(PORTS, doc="...")``."""

    def live_server():
        server = start_live_server(ports)
        yield server
        server.stop()

    live_server.__doc__ = doc
    return pytest.fixture(scope="session")(live_server)
