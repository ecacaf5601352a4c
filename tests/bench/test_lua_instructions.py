"""Callgrind counts the reserve script's instructions on a Redis of its own, and leaves nothing behind."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from bench.lua_instructions import measure_lua_instructions
from tests.support.redis_guard import keys_but_marker

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed"),
]


def _callgrind_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("bench-callgrind-*"))


def test_both_paths_are_counted_and_nothing_is_left(redis_conn, settings):
    # Every decision comes from one address: the limit must not refuse any of them.
    settings.FLASHSALE_RESERVE_RATE_IP = "1000000/s"
    before = _callgrind_dirs()

    figures = measure_lua_instructions(decisions=20)

    # A decision runs a script of a dozen commands: far more than the 12,000 or so instructions
    # Redis spends on reading any one command and answering it.
    assert figures["value"] > 50_000 and figures["direct"] > 50_000, figures
    assert figures["decisions"] == 20
    # The bench's Redis holds nothing of the session, and the counted server is gone with its files.
    assert keys_but_marker(redis_conn) == set()
    assert _callgrind_dirs() == before
