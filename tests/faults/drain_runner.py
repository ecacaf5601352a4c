"""One drain of a sale session in a process of its own that stops dead between a batch's commit and its XACK.

``python tests/faults/drain_runner.py <session id> <batch size> <marker file>``: after the first
batch is committed to PostgreSQL, the ids of its stream entries are written to the marker file and
the process waits there, before acknowledging, until the test kills it with SIGKILL. It uses the
``before_ack`` hook of ``reservations.drain.drain_session``: ``manage.py drain_transactions`` has
no such hook.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import django


def main() -> None:
    session_id, batch_size, marker = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flashsale.settings")
    django.setup()
    from reservations.drain import drain_session

    def park(entry_ids: list[str]) -> None:
        marker.write_text(" ".join(entry_ids))
        threading.Event().wait()

    drain_session(session_id, batch_size=batch_size, before_ack=park)


if __name__ == "__main__":
    main()
