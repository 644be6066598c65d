"""Whole runs for tests of run semantics: `cleaner.run` in this process, no Prefect. Paths
and the output folder are given as the flow takes them, so a test reads the same either way."""

from __future__ import annotations

import cleaner


def clean_corpus(
    paths: list[str] | None = None,
    out: str = "output",
    config: dict | None = None,
    allow_empty: bool = False,
    reprocess: bool = False,
    workers: int | None = None,
) -> dict:
    """`cleaner.run`, its summary as the flow returns it. Batches run in this process, or on
    a pool of `workers` processes."""
    executor = cleaner.InlineExecutor() if workers is None else cleaner.LocalExecutor(workers)
    with executor:
        summary = cleaner.run(
            paths, out, config, executor=executor, allow_empty=allow_empty, reprocess=reprocess
        )
    return summary.as_dict()
