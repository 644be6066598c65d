"""Progress of a long step, for the person waiting on it.

On a terminal, one line redrawn in place: a bar, counts, the rate and the time left. Not on a
terminal (a scheduled run, a log file), a plain log line now and then, since a redrawn line
would fill a log with carriage returns.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


class Progress:
    """Files done out of `total`, fed batch by batch with `advance`. `emit` receives the
    plain lines (a logger's `info`); `stream` gets the bar when it is a terminal."""

    def __init__(
        self,
        label: str,
        total: int,
        batches: int,
        emit: Callable[[str], None],
        stream: TextIO | None = None,
        every: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        width: int = 28,
    ) -> None:
        self.label, self.total, self.batches = label, total, batches
        self.emit, self.stream = emit, stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.every, self.clock, self.width = every, clock, width
        self.start = self.last = clock()
        self.files = self.records = self.done = 0

    def advance(self, files: int, records: int) -> None:
        """One batch finished, with its number of files and of records read from them."""
        self.done += 1
        self.files += files
        self.records += records
        now = self.clock()
        if self.tty:
            self.stream.write("\r" + self.line(now, bar=True) + "\x1b[K")
            self.stream.flush()
        elif now - self.last >= self.every:
            self.emit(self.line(now))
            self.last = now

    def close(self) -> None:
        now = self.clock()
        if self.tty:
            self.stream.write("\r" + self.line(now, bar=True) + "\x1b[K\n")
            self.stream.flush()
        elif self.done:
            self.emit(self.line(now))

    def line(self, now: float, bar: bool = False) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.files / elapsed
        share = self.files / self.total if self.total else 1.0
        parts = [
            f"{self.done}/{self.batches} batches",
            f"{self.files:,}/{self.total:,} files",
            f"{self.records:,} records",
            f"{rate:,.0f} files/s",
        ]
        if self.files < self.total and rate > 0:
            parts.append(f"{_duration((self.total - self.files) / rate)} left")
        else:
            parts.append(f"{_duration(elapsed)} in all")
        head = self.label
        if bar:
            filled = int(share * self.width)
            head += f" [{'#' * filled}{'.' * (self.width - filled)}] {share:4.0%}"
        return head + " " + " · ".join(parts)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
