import cProfile
import os
import sys
import threading
import time
from collections.abc import Callable

import pytest

from cleaner.limits import TimeLimitExceeded, time_limit


def _spin(seconds: float) -> float:
    """Busy Python code under a limit; returns how long it ran before being stopped."""
    start = time.perf_counter()
    with pytest.raises(TimeLimitExceeded), time_limit(seconds):
        while True:
            pass
    return time.perf_counter() - start


def test_a_block_over_its_limit_is_stopped_in_the_main_thread():
    assert 0.2 <= _spin(0.2) < 1.0


def test_a_block_over_its_limit_is_stopped_in_any_thread():
    took = []
    workers = [threading.Thread(target=lambda: took.append(_spin(0.3))) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(5)
    assert len(took) == 2 and all(0.3 <= t < 1.5 for t in took)


def test_code_that_catches_every_exception_cannot_swallow_the_limit():
    swallowed = []

    def stubborn():
        while True:
            try:  # what libraries do around their parsing
                sum(range(1000))
            except Exception as exc:
                swallowed.append(exc)

    with pytest.raises(TimeLimitExceeded), time_limit(0.1):
        stubborn()
    assert swallowed == []


def test_nothing_is_raised_after_a_block_that_ends_at_its_deadline():
    # 300 blocks at least, and on until one was stopped at its deadline (the race the test is
    # about), up to 3,000. The block lets go of the GIL as it spins: the watchdog needs it to
    # fire, and without a release it waits up to the switch interval (5 ms), past the block,
    # and fired within the block in 2% of them, or none of 3,000 on a busy machine.
    fired = tried = 0
    while tried < 300 or (not fired and tried < 3000):
        tried += 1
        try:
            with time_limit(0.001):
                start = time.perf_counter()
                while time.perf_counter() - start < 0.001:  # ends right at the deadline
                    time.sleep(0)
        except TimeLimitExceeded:
            fired += 1
        for _ in range(2000):  # a late exception would surface in this loop, uncaught
            pass
    assert 0 < fired <= tried


def test_a_block_within_its_limit_runs_to_the_end():
    for _ in range(1000):
        with time_limit(1.0):
            total = sum(range(2000))
    assert total == sum(range(2000))


def test_limits_do_not_nest():
    with time_limit(1), pytest.raises(RuntimeError, match="nest"), time_limit(1):
        pass


def test_a_short_limit_after_long_ones_is_kept_and_blocks_wake_no_thread(monkeypatch):
    """The watchdog is woken only for a deadline before the one it waits for: blocks of one
    limit one after another (a page's extraction each) wake it never, and a shorter limit
    after them, in this thread or another while a long one is held, still fires in time."""
    from cleaner import limits

    for _ in range(5):
        with time_limit(30):
            pass
    woken = []
    notify = limits._cond.notify
    monkeypatch.setattr(limits._cond, "notify", lambda *a: (woken.append(1), notify(*a)))
    for _ in range(100):
        with time_limit(30):
            pass
    assert woken == []
    assert 0.2 <= _spin(0.2) < 1.0 and woken == [1]
    held = threading.Event()
    done = threading.Event()

    def long_limit():
        with time_limit(60):
            held.set()
            done.wait(5)

    other = threading.Thread(target=long_limit)
    other.start()
    held.wait(5)
    try:
        assert 0.2 <= _spin(0.2) < 1.0
    finally:
        done.set()
        other.join(5)


def _in_a_child(body: Callable[[], None], seconds: float = 20) -> int | None:
    """Run `body` in a forked child: its exit status (0: it returned, 1: it raised), or None
    if it had not ended after `seconds` (it is killed then)."""
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            body()
            status = 0
        finally:
            os._exit(status)
    deadline = time.monotonic() + seconds
    while (done := os.waitpid(pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    if done[0] == 0:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        return None
    return os.waitstatus_to_exitcode(done[1])


def _a_limit_that_ends_then_one_that_fires() -> None:
    with time_limit(30):
        pass
    with pytest.raises(TimeLimitExceeded), time_limit(0.05):
        while True:
            pass


def test_a_debugger_or_profiler_still_runs_after_limits_in_the_process():
    """A limit's end once withdrew any pending exception with `PyThreadState_SetAsyncExc(
    thread, NULL)`, which leaves CPython's pending-exception signal set for good: after one
    extracted page, `sys.settrace` or `sys.setprofile` (pdb, coverage, cProfile) made the
    process spin forever at its next Python call."""

    def traced() -> None:
        _a_limit_that_ends_then_one_that_fires()
        profile = cProfile.Profile()
        profile.enable()
        with time_limit(30):
            sum(range(1000))
        profile.disable()
        sys.settrace(lambda frame, event, arg: None)
        try:
            with time_limit(30):
                sum(range(1000))
        finally:
            sys.settrace(None)

    assert _in_a_child(traced) == 0


def test_a_process_forked_while_the_watchdog_holds_its_lock_can_still_limit():
    """A fork copies the lock in whatever state the parent's threads left it: held, if its
    watchdog was checking deadlines just then. The child starts afresh, and its limits
    work (`os.register_at_fork`); without that, its first block waited forever."""
    from cleaner import limits

    with time_limit(30):  # the watchdog runs
        pass
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # what the watchdog does as it wakes, for as long as the fork takes
        with limits._lock:
            held.set()
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(5)
    try:
        status = _in_a_child(_a_limit_that_ends_then_one_that_fires)
    finally:
        release.set()
        holder.join(5)
    assert status == 0
