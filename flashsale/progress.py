"""Progress of long work (sync_products, load_session, reconcile, rebuild_session, seed_demo,
prune_sync_runs): a live bar with rate and ETA (tqdm) on a terminal, a plain line every
``FLASHSALE_PROGRESS_LINE_SECONDS`` when the output is a pipe or a file, nothing with ``--quiet``.

Domain functions take ``progress: Progress = NO_PROGRESS`` (keyword-only) and call
``start(what, total)``, ``advance(count)`` and ``finish()``; only commands pass a real one,
``command_progress(command, options)``, so Celery tasks and views print nothing. Progress goes to
the command's stderr: its stdout keeps the result lines a script may read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TextIO

from django.conf import settings

if TYPE_CHECKING:
    from tqdm import tqdm


class Progress:
    """The interface, and the silent implementation."""

    def start(self, what: str, total: int | None, *, unit: str = "items") -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


NO_PROGRESS = Progress()


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class LineProgress(Progress):
    """Plain lines for logs and pipes: one at the start, then at most one per ``interval`` seconds, one at the end."""

    def __init__(self, stream: TextIO, *, interval: float, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.interval = interval
        self.clock = clock
        self.what = ""
        self.total: int | None = None
        self.unit = "items"
        self.done = 0
        self.started = self.last = 0.0

    def start(self, what: str, total: int | None, *, unit: str = "items") -> None:
        self.what, self.total, self.unit, self.done = what, total, unit, 0
        self.started = self.last = self.clock()
        self._write(self._line())

    def advance(self, count: int = 1) -> None:
        self.done += count
        now = self.clock()
        if now - self.last >= self.interval:
            self.last = now
            self._write(self._line(now))

    def finish(self) -> None:
        elapsed = self.clock() - self.started
        rate = f", {self.done / elapsed:.0f} {self.unit}/s" if elapsed > 0 else ""
        self._write(f"{self.what}: done, {self.done} {self.unit} in {_duration(elapsed)}{rate}")

    def _line(self, now: float | None = None) -> str:
        elapsed = (now if now is not None else self.clock()) - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.total:
            text = f"{self.what}: {self.done}/{self.total} {self.unit} ({100 * self.done / self.total:.0f}%)"
        else:
            text = f"{self.what}: {self.done} {self.unit}"
        if self.done:
            text += f", {rate:.0f} {self.unit}/s"
            if self.total and rate > 0:
                text += f", ETA {_duration((self.total - self.done) / rate)}"
        return text

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


class BarProgress(Progress):
    """tqdm's bar (count, percentage, rate, elapsed and ETA), redrawn in place on a terminal."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.bar: tqdm[Any] | None = None

    def start(self, what: str, total: int | None, *, unit: str = "items") -> None:
        from tqdm import tqdm

        self.finish()
        self.bar = tqdm(total=total, desc=what, unit=f" {unit}", file=self.stream, dynamic_ncols=True, mininterval=0.2)

    def advance(self, count: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(count)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def progress_for(stream: TextIO, *, quiet: bool = False) -> Progress:
    if quiet:
        return NO_PROGRESS
    if stream.isatty():
        return BarProgress(stream)
    return LineProgress(stream, interval=settings.FLASHSALE_PROGRESS_LINE_SECONDS)


def add_quiet_argument(parser) -> None:
    parser.add_argument("--quiet", action="store_true", help="Print no progress (bar or lines), only the result.")


def command_progress(command, options: dict) -> Progress:
    """The progress of a management command: on its stderr, silent with --quiet or --verbosity 0."""
    quiet = options.get("quiet", False) or options.get("verbosity", 1) == 0
    stream = getattr(command.stderr, "_out", command.stderr)
    return progress_for(stream, quiet=quiet)
