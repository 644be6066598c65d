"""A wall-clock limit on a block of Python code, in any thread.

Extraction runs third-party code on hostile pages: one pathological page must not hold its
batch for minutes. `signal.alarm` would work only in a process's main thread, and Prefect may
run a task in another, so a watchdog thread (one per process, started on first use) raises
`TimeLimitExceeded` in the limited thread when its deadline passes, with CPython's
`PyThreadState_SetAsyncExc`. The exception is delivered between Python bytecodes: a single
long C call (lxml parsing a huge document) finishes first, which is why inputs also have a
size limit (`read.max_record_bytes`).
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class TimeLimitExceeded(BaseException):  # noqa: N818 (it is not an error of the code it stops)
    """Raised in a thread whose time limit passed. A BaseException, like KeyboardInterrupt,
    so that the `except Exception` blocks of the code it interrupts cannot swallow it."""


_lock = threading.Lock()  # a C lock: no Python code runs between acquiring it and the block
_cond = threading.Condition(_lock)  # wakes the watchdog when a deadline is added
_deadlines: dict[int, float] = {}  # thread id -> monotonic deadline; guarded by _lock
_wakes = float("inf")  # when the watchdog wakes next (inf: when notified); guarded by _lock
_watchdog: threading.Thread | None = None


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Run the block with a limit of `seconds`; raises `TimeLimitExceeded` from inside it
    when the limit passes (or from its end, if the limit passed just as it finished).
    Nothing is raised after the block. Limits do not nest within one thread."""
    thread = threading.get_ident()
    with _cond:
        if thread in _deadlines:
            raise RuntimeError("time_limit blocks do not nest")
        _start_watchdog()
        deadline = _deadlines[thread] = time.monotonic() + seconds
        if deadline < _wakes:  # else it wakes in time: a page's extraction wakes no thread
            _cond.notify()
    try:
        yield
    finally:
        # The watchdog may have fired just before the block ended, its exception not yet
        # raised: it would surface at the next Python call, after the block. Once the deadline
        # is gone (under the lock, entered without a Python call) the watchdog cannot fire
        # again, and a pending exception is raised here, at `_checkpoint`, and dropped. It is
        # not withdrawn with `PyThreadState_SetAsyncExc(thread, NULL)`: that leaves CPython's
        # signal of a pending exception set for good, and every later `sys.settrace` or
        # `sys.setprofile` (a debugger, coverage, cProfile) then spins forever on 3.11.
        while True:
            try:
                with _lock:
                    fired = _deadlines.pop(thread, None) is None
                if fired:
                    _checkpoint()
                break
            except TimeLimitExceeded:
                continue  # the late exception, raised here rather than after the block


def _checkpoint() -> None:
    """Nothing: calling it lets the interpreter raise a pending asynchronous exception, which
    it checks for as a Python function starts."""


def _after_fork_in_child() -> None:
    """A forked child holds only the thread that forked: no watchdog, and the lock copied in
    whatever state the parent's threads left it, held if its watchdog was checking deadlines
    just then, and the child's first limit would wait for it forever. The child starts afresh;
    a block the fork happened in ends as one whose deadline is gone."""
    global _lock, _cond, _deadlines, _wakes, _watchdog
    _lock = threading.Lock()
    _cond = threading.Condition(_lock)
    _deadlines, _wakes, _watchdog = {}, float("inf"), None


os.register_at_fork(after_in_child=_after_fork_in_child)


def _start_watchdog() -> None:
    global _watchdog
    if _watchdog is None or not _watchdog.is_alive():
        _watchdog = threading.Thread(target=_watch, name="cleaner-time-limit", daemon=True)
        _watchdog.start()


def _watch() -> None:
    global _wakes
    with _cond:
        while True:
            now = time.monotonic()
            for thread in [t for t, deadline in _deadlines.items() if deadline <= now]:
                del _deadlines[thread]
                _raise_in(thread, TimeLimitExceeded)
            _wakes = min(_deadlines.values(), default=float("inf"))
            _cond.wait(None if _wakes == float("inf") else max(_wakes - now, 0.0))


def _raise_in(thread: int, exc: type[BaseException]) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread), ctypes.py_object(exc))
