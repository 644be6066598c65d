"""Prefect's process pool, with its workers started, warm, before the flow run needs them.

Prefect's own `ProcessPoolTaskRunner` always spawns its workers, at the first task; keeping
them forked warm needs its private worker initializer, so that stays here, in the adapter:
the library's own pool (`cleaner.runner.LocalExecutor`) starts its workers the same way with
the standard library alone.

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

import multiprocessing
import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Self

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, _initialize_process_pool_worker

from cleaner.runner import cool_down, start_worker, warm_up


def release_workers(runner: TaskRunner) -> None:
    """Stop a process pool's workers while its flow run goes on (`cleaner.run` has no more
    batches for them): each holds a warm interpreter, ~430 MB resident at a million records,
    through stages that run in the flow's process. Another task runner is left alone. The
    pool refuses tasks from then on; the flow run's end shuts it down as usual."""
    executor = getattr(runner, "_executor", None) if isinstance(runner, ProcessPoolTaskRunner) else None
    if executor is not None:
        executor.shutdown(wait=True, cancel_futures=True)
        cool_down()


class EagerProcessPool(ProcessPoolTaskRunner):
    """A `ProcessPoolTaskRunner` that `start` starts, with all its workers warm, before a
    flow run enters it. Workers it spawns run `warm_up(warm)` as they start.

    A flow run enters a duplicate of its task runner; a started pool is its own duplicate,
    so the run gets the workers already started, and stops them when it ends."""

    def __init__(self, max_workers: int | None = None, warm: tuple[str, ...] = ()) -> None:
        super().__init__(max_workers, initializer=start_worker, initargs=(os.getpid(), tuple(warm)))
        self._in_worker = False

    def start(self) -> Self:
        """Start the pool and all its workers now: forked from this process once it has
        warmed up, where that is safe (Linux, and no other thread yet, so that none can
        hold a lock at the fork); else spawned, each warming up as it starts."""
        if sys.platform == "linux" and threading.active_count() == 1:
            warm_up(self._initargs[1])
            self._enter(multiprocessing.get_context("fork"))
            cool_down()  # the workers have the models now; this process has no use for them
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
        # worker, and the worker enters it as it restores the flow run's context: a copy
        # that starts nothing (Prefect's own made a pool of queues and threads in the worker
        # for every task, and a worker killed as the command stopped left their semaphores
        # for multiprocessing's tracker to complain of, 8 a worker).
        return _worker_copy, (type(self), self._max_workers, self._initargs[1])

    def duplicate(self) -> Self:
        return self if self._started or self._in_worker else super().duplicate()

    def __enter__(self) -> Self:
        if self._started or self._in_worker:
            return self
        # The workers' parent is the process entering the pool (a deployment's flow run),
        # not the one that made it (which imported the flow's module, maybe elsewhere).
        self._initargs = (os.getpid(), self._initargs[1])
        return super().__enter__()

    def __exit__(self, exc_type, exc_value, traceback) -> None:
        """Shut the pool down as Prefect does; first, when the flow run ends on a stop (a
        SIGTERM Prefect took as `TerminationSignal`, a Ctrl-C as `Interrupted`), end the
        workers: Prefect's shutdown waits for the batches under way, which took 12 to 19 s
        on the real pages, past the command's grace (`cleaner.interrupt`)."""
        if self._in_worker:
            return
        if exc_type is not None and not issubclass(exc_type, Exception):
            self.kill()
        super().__exit__(exc_type, exc_value, traceback)


def _worker_copy(
    kind: type[EagerProcessPool], max_workers: int | None, warm: tuple[str, ...]
) -> EagerProcessPool:
    """The pool as a task's worker restores it: never entered, never started."""
    pool = kind(max_workers, warm)
    pool._in_worker = True
    return pool
