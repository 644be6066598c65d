"""Stopping a command on Ctrl-C or SIGTERM: promptly, leaving the corpus as it was, with the
conventional exit status (128 + the signal's number: 130, 143).

A terminal's Ctrl-C and a scheduler's SIGTERM reach the command's whole process group. The
command's handler raises `Interrupted` in its main thread, so the run unwinds as on any error:
its staging folder is removed unless its commit journal is written (then the commit completes,
now or at the next run: `writers.recover`). Whatever the run is waiting on when the signal
comes, it is given `grace` seconds to unwind; after that `on_timeout` ends the process (the run
was waiting on something that will not answer, such as a Prefect API that the same signal
stopped). A second signal ends it at once.

A shell starts a background job with SIGINT ignored; such a command keeps ignoring it, as
programs do.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """The command was asked to stop. A BaseException, like KeyboardInterrupt, so that no
    `except Exception` on the way out swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


class Stopper:
    """What `stop_signals` hands its block: `trigger` starts the countdown from another
    thread, for a stop that arrives some other way than a signal to this process."""

    def __init__(self, on_timeout: Callable[[int], None], grace: float) -> None:
        self.on_timeout, self.grace = on_timeout, grace
        self.received: list[int] = []
        self.done = threading.Event()
        self._lock = threading.Lock()

    def trigger(self, signum: int) -> bool:
        """Start the countdown (once); False if it had started."""
        with self._lock:
            if self.received:
                return False
            self.received.append(signum)
        threading.Thread(target=self._watchdog, args=(signum,), name="cleaner-stop", daemon=True).start()
        return True

    def _watchdog(self, signum: int) -> None:
        if not self.done.wait(self.grace):
            self.on_timeout(signum)


@contextmanager
def stop_signals(on_timeout: Callable[[int], None], grace: float = 5.0) -> Iterator[Stopper]:
    """Within the block, SIGINT and SIGTERM raise `Interrupted` in the main thread; if the
    block has not ended `grace` seconds later, `on_timeout(signum)` runs on another thread
    (it should end the process). Outside the main thread, or where SIGINT is ignored (a
    background job), those signals are left as they are."""
    stopper = Stopper(on_timeout, grace)
    if threading.current_thread() is not threading.main_thread():
        yield stopper
        return

    def handler(signum: int, frame) -> None:
        if not stopper.trigger(signum):  # asked twice: no more waiting
            on_timeout(signum)
            os._exit(128 + signum)
        _requested.append(signum)
        raise Interrupted(signum)

    previous = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, handler)
    try:
        yield stopper
    finally:
        stopper.done.set()
        _requested.clear()
        for signum, old in previous.items():
            signal.signal(signum, old)


_requested: list[int] = []  # the signals `stop_signals` turned into `Interrupted` in its block


def requested() -> int | None:
    """The signal that asked this command to stop, within `stop_signals`: for code whose
    `Interrupted` a library may have turned into an error of its own (pydantic does, raised
    inside its serializer), which would otherwise be taken for a failure and the stop lost."""
    return _requested[0] if _requested else None


def say(message: str) -> None:
    """One line on stderr, from any thread, even as the process ends."""
    try:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
