"""The clean-corpus flow: `cleaner.run` on Prefect.

The run itself is the library's (`cleaner.run`); each of its steps is a Prefect task
(`cleaner_flows.tasks`), and its counts are published as a table artifact.

Run it with `cleaner run`, or `python flows/clean_corpus.py [PATH ...]`.
"""

from __future__ import annotations

from cleaner_flows.server import prefect_api, prefect_defaults

prefect_defaults()  # before Prefect is imported: it reads its settings once

import logging  # noqa: E402
import sys  # noqa: E402
from contextlib import ExitStack  # noqa: E402

from prefect import flow, get_run_logger  # noqa: E402
from prefect.artifacts import create_table_artifact  # noqa: E402
from prefect.runtime import flow_run  # noqa: E402
from prefect.states import Failed, State  # noqa: E402

from cleaner import runner  # noqa: E402
from cleaner.config import Config  # noqa: E402
from cleaner.errors import CleanerError  # noqa: E402
from cleaner.io import records  # noqa: E402
from cleaner_flows.pool import EagerProcessPool  # noqa: E402
from cleaner_flows.tasks import PrefectExecutor, connect_dask  # noqa: E402


class _ExpectedFailures(logging.Filter):
    """Drop the lines with a traceback that Prefect logs for a `CleanerError` (a setting, the
    output folder, the disk): the task's "Task run failed with exception", the engine's and
    the flow run's "exited with unexpected exception". The error is expected, and said in one
    line by the task's and the run's "Finished in state Failed(...)"; a deployment's flow-run
    process logged some forty lines of traceback for an input path that did not exist."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], CleanerError))


for _name in ("prefect.engine", "prefect.flow_runs", "prefect.task_runs"):
    logging.getLogger(_name).addFilter(_ExpectedFailures())

# Set by `cleaner run`, which says an error itself in one line (with a log of the traceback
# for an unexpected one): the flow run then ends Failed with the error as its message, without
# Prefect logging the traceback on the terminal. Elsewhere (a deployment, a test) an
# unexpected error is raised as usual, its traceback in the run's logs.
QUIET_FAILURES = False


# Prefect's process pool, whose workers die with the flow run's process however it ends: a
# deployment's run killed outright (the OOM killer) left Prefect's own workers behind, ~400
# MB each, holding the worker's pipe open, and the run "Running" for good.
@flow(name="clean-corpus", task_runner=EagerProcessPool(), validate_parameters=True)
def clean_corpus(
    paths: list[str] | None = None,
    out: str = "output",
    config: dict | None = None,
    dask: str | None = None,
    allow_empty: bool = False,
    reprocess: bool = False,
) -> dict | State:
    """Clean and deduplicate the pages under `paths` (none: the bundled examples; an empty
    list fails, as an empty `out` does: a template's unset variable) into a
    Parquet corpus in `out` (`cleaner.run`). `config` has the sections of a configuration
    file. A path is written as a `source` is (`readers.source_of`: bytes of its name that are
    not UTF-8 as `\\xNN`, a backslash doubled). `dask` is the address of a Dask scheduler whose
    workers run the tasks instead of the local process pool; they must see `paths` and `out`
    at the same paths (a shared file system). `allow_empty`: no input found is no error (a
    scheduled run's empty inbox). `reprocess` reads every input again and replaces the corpus.

    A `CleanerError` (a setting, the output folder, the disk) ends the run Failed with its
    one-line message, and no traceback."""
    try:
        with ExitStack() as stack:
            summary = runner.run(
                None if paths is None else [records.path_of_source(p) for p in paths],
                out,
                Config.from_dict(dict(config or {})),  # a bad setting is said before Dask is tried
                executor=connect_dask(stack, dask) if dask else PrefectExecutor(),
                log=get_run_logger(),
                allow_empty=allow_empty,
                reprocess=reprocess,
                labels={"prefect_flow_run_id": str(flow_run.id) if flow_run.id else None},
            )
    except CleanerError as exc:
        return Failed(message=str(exc), data=exc)
    except Exception as exc:
        if not QUIET_FAILURES:
            raise
        return Failed(message=f"{type(exc).__name__}: {exc}", data=exc)
    if summary.counts is not None:
        _publish_counts(summary.run_id, out, summary.counts)
    return summary.as_dict()


def _publish_counts(run_id: str, out: str, counts: dict) -> None:
    """Show what the run did in the Prefect UI: its counts as a table artifact of the flow
    run. Every run publishes under the same key, so the key's history is the runs' history."""
    table = [
        {"count": "documents kept", "value": counts["documents"]},
        {"count": "duplicate documents", "value": counts["duplicate_documents"]},
        {"count": "boilerplate lines", "value": counts["passages_by_status"].get("boilerplate", 0)},
        {"count": "rejects", "value": counts["rejects"]},
    ] + [{"count": f"passages {status}", "value": n} for status, n in counts["passages_by_status"].items()]
    create_table_artifact(
        table=table,
        key="clean-corpus-counts",
        description=f"Run `{run_id}` of **clean-corpus** into `{out}`: documents kept, "
        "duplicate documents, boilerplate lines, rejects and passages by status.",
    )


if __name__ == "__main__":
    with prefect_api():
        clean_corpus(paths=sys.argv[1:] or None)
