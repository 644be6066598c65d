"""Prefect's process pool, with its workers started, warm, before the flow run needs them.

A new worker spends ~2 s starting Python and importing Prefect, the flow's module and
trafilatura, and its first extraction pays for loading jusText's stop words of every language
(75 ms; it was 1.4 s while htmldate's extensive search reached dateparser). Prefect's pool
spawns its workers at the first task, so each worker's first batch used to finish late, and
each paid the same costs. `cleaner run` starts this pool as
the command starts: on Linux the command's process imports and warms up while Prefect's
server starts, then forks its workers, which start warm; elsewhere (fork is unsafe on
macOS) the workers are spawned at once and warm up while the server starts.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Self

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, _initialize_process_pool_worker

from cleaner import extract, language

log = logging.getLogger(__name__)


def warm_up(modules: tuple[str, ...]) -> None:
    """Import `modules` and pay extraction's one-off costs in this process. A failure is
    logged, not raised: in a worker's initializer it would break the whole pool, while the
    task that needs what failed reports the real error."""
    try:
        for name in modules:
            importlib.import_module(name)
        extract.warm_up()
        language.warm_up()
    except Exception:
        log.warning("warming up failed; the first task will pay for it", exc_info=True)


def start_worker(parent: int, modules: tuple[str, ...]) -> None:
    """A worker's first act: die with the command and leave stopping to it, then warm up.

    On Linux the kernel kills the worker when the command's process ends, however it ends (a
    `kill -9` left workers holding hundreds of MB for minutes, and writing into the staging
    folder of a run that was gone). Ctrl-C and SIGTERM reach the whole process group: the
    command stops its workers itself (`EagerProcessPool.kill`), so they ignore both."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the command ended before the prctl
            os._exit(0)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    if modules:
        warm_up(modules)


class EagerProcessPool(ProcessPoolTaskRunner):
    """A `ProcessPoolTaskRunner` that `start` starts, with all its workers warm, before a
    flow run enters it. Workers it spawns run `warm_up(warm)` as they start.

    A flow run enters a duplicate of its task runner; a started pool is its own duplicate,
    so the run gets the workers already started, and stops them when it ends."""

    def __init__(self, max_workers: int | None = None, warm: tuple[str, ...] = ()) -> None:
        super().__init__(max_workers, initializer=start_worker, initargs=(os.getpid(), tuple(warm)))

    def start(self) -> Self:
        """Start the pool and all its workers now: forked from this process once it has
        warmed up, where that is safe (Linux, and no other thread yet, so that none can
        hold a lock at the fork); else spawned, each warming up as it starts."""
        if sys.platform == "linux" and threading.active_count() == 1:
            warm_up(self._initargs[1])
            self._enter(multiprocessing.get_context("fork"))
        else:
            super().__enter__()
            for _ in range(self._max_workers):  # spawn: a worker for each call waiting
                self._executor.submit(os.getpid)
        return self

    def _enter(self, context) -> None:
        """`ProcessPoolTaskRunner.__enter__` with another start method, its workers already
        warm, and started before any thread of the pool."""
        TaskRunner.__enter__(self)
        self._subprocess_message_queue = context.Queue()
        self._executor = ProcessPoolExecutor(
            max_workers=self._max_workers,
            mp_context=context,
            initializer=_initialize_process_pool_worker,
            initargs=(self._subprocess_message_queue, start_worker, (os.getpid(), ())),  # warm already
        )
        self._executor.submit(os.getpid)  # with fork, the first call starts every worker
        self._message_forwarding_thread = threading.Thread(
            target=self._forward_subprocess_messages,
            name="ProcessPoolTaskRunnerMessageForwarder",
            daemon=True,
        )
        self._message_forwarding_thread.start()
        self._resolver_executor = ThreadPoolExecutor(max_workers=self._max_workers)

    def close(self) -> None:
        """Stop the workers, if no flow run has (one that never started, or failed to)."""
        if self._started:
            self.__exit__(None, None, None)

    def kill(self) -> None:
        """End the workers now, whatever they are doing: the command is stopping."""
        processes = getattr(self._executor, "_processes", None) or {}
        for process in list(processes.values()):
            if process.is_alive():
                process.kill()

    @property
    def started(self) -> bool:
        return self._started

    def __reduce__(self):
        # Prefect pickles the flow, task runner included, into every task it sends to a
        # worker: a copy that is not started, without the live queue and processes.
        return type(self), (self._max_workers, self._initargs[1])

    def duplicate(self) -> Self:
        return self if self._started else super().duplicate()

    def __enter__(self) -> Self:
        return self if self._started else super().__enter__()
