"""Prefect's side of `cleaner.run`: each step of the run a task of the flow run.

The batches go to the flow's task runner (a process pool, one worker per core: extraction and
cleaning are Python-bound, and its workers are stopped once they are done) or to a Dask
cluster's, which also takes the LSH band groups; the whole-corpus steps run in the flow's own
process, as tasks too, so the UI shows every step.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from functools import partial, wraps
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.futures import as_completed
from prefect.task_runners import TaskRunner
from prefect.utilities.annotations import quote
from prefect_dask import DaskTaskRunner

from cleaner import pipeline, runner
from cleaner.dedup import lsh, rewrites
from cleaner.errors import CleanerError
from cleaner.io import readers
from cleaner_flows.pool import release_workers

# Inputs are large lists of records: hashing them for Prefect's cache would cost more than
# the work, and a rerun must redo the work anyway. Every argument is passed wrapped in
# `quote()`: Prefect otherwise walks each one, down to every passage, looking for futures
# (measured: 3.4 s per call on 54,000 passages; 0.2 s quoted).
_task = partial(task, cache_policy=NO_CACHE, persist_result=False)


def _named(fn: Callable, name: str) -> Callable:
    """`fn` under the step's name, which a Dask cluster shows for its work (it names work by
    function, where Prefect uses the task's name)."""

    @wraps(fn)
    def step(**kwargs: Any) -> Any:
        return fn(**kwargs)

    step.__name__ = step.__qualname__ = name.replace("-", "_")
    return step


TASKS = {
    fn: _task(name=name)(_named(fn, name))
    for fn, name in (
        (readers.discover, "discover"),
        (pipeline.prepare_batch, "prepare"),
        (runner.learn_boilerplate, "learn-boilerplate"),
        (lsh.band_group_pairs, "lsh-bands"),
        (rewrites.mark_rewrites, "rewrites"),
        (pipeline.write_run, "write"),
    )
}


class PrefectExecutor:
    """`cleaner.run`'s executor: each call a task of the flow run, on its own task runner
    or, given one, on another (a Dask cluster's: `remote`)."""

    def __init__(self, runner: TaskRunner | None = None, workers: int | None = None) -> None:
        self.runner = runner
        self.remote = runner is not None
        self.workers = workers  # a cluster's, when it has them; else one per core

    def release(self) -> None:
        """The run's batches are done: stop the flow run's process pool, if it has one (a
        cluster's workers are left alone)."""
        context = FlowRunContext.get()
        if self.runner is None and context is not None:
            release_workers(context.task_runner)

    def submit(self, fn, /, **kwargs: Any):
        if self.runner is None:
            return TASKS[fn].submit(**{k: quote(v) for k, v in kwargs.items()})
        # Dask turns a `quote` (a named tuple) into a plain 1-tuple on the way: pass them
        # plain. Our arguments hold no futures, and the Dask runner does not walk arrays.
        return self.runner.submit(TASKS[fn], parameters=kwargs)

    def as_completed(self, futures):
        return as_completed(futures)

    def call(self, fn, /, **kwargs: Any):
        return TASKS[fn](**{k: quote(v) for k, v in kwargs.items()})


def connect_dask(stack: ExitStack, address: str) -> PrefectExecutor:
    """An executor on a Dask cluster's task runner, connected now, before any work, rather
    than at the first task; its batches a multiple of the cluster's workers now."""
    try:
        runner = stack.enter_context(DaskTaskRunner(address=address))
        workers = len(runner.client.scheduler_info()["workers"])
    except (OSError, ValueError) as exc:  # refused, timed out, not a scheduler, no address
        raise CleanerError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    get_run_logger().info(f"dask: the tasks run on the cluster at {address} ({workers} workers now)")
    return PrefectExecutor(runner, workers=workers or None)
