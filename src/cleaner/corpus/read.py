"""Reading a committed corpus, for the commands that look at one (`report`, `explain`): its
runs' manifests and its datasets' rows, a run's partitions at a time.

Every dataset is partitioned by run (`<dataset>/run=<run id>/part-*.parquet`): a reader names
the runs it wants, so the partitions of a run being committed, or of one retired, are never
read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from cleaner.corpus import check
from cleaner.corpus.writers import RUNS
from cleaner.errors import OutputError

PARTITIONING = ds.partitioning(pa.schema([("run", pa.string())]), flavor="hive")


def manifests(out: Path) -> list[dict]:
    """The manifests of the committed runs (`runs/*.json`), oldest first; an `OutputError`
    when there are none, or the corpus is damaged (`check.refuse_damaged`: a deleted
    `duplicates/` read as no duplicates at all)."""
    check.refuse_damaged(out, reading=True)
    paths = sorted((out / RUNS).glob("*.json"))
    if not paths:
        raise OutputError(f"{out} holds no cleaner corpus (no runs/*.json): give the --out folder of a run")
    found = []
    for path in paths:
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError):
            manifest = None
        if not isinstance(manifest, dict) or "run_id" not in manifest:
            raise OutputError(f"{path} is damaged: `cleaner check {out}` says what is wrong and what to do")
        found.append(manifest)
    return sorted(found, key=lambda m: m["run_id"])


def rows(out: Path, name: str, columns: list[str], where: ds.Expression, runs: list[str]) -> list[dict]:
    """The rows of dataset `name` in `runs` that `where` selects, with `columns`."""
    if not (out / name).is_dir():
        return []
    with check.damage_said(out):
        dataset = ds.dataset(out / name, format="parquet", partitioning=PARTITIONING)
        return dataset.to_table(columns=columns, filter=where & ds.field("run").isin(runs)).to_pylist()


def batches(out: Path, name: str, columns: list[str], runs: list[str]) -> Iterator[pa.RecordBatch]:
    """Dataset `name`'s rows in `runs`, with `columns`, a record batch at a time."""
    if not (out / name).is_dir() or not runs:
        return
    with check.damage_said(out):
        dataset = ds.dataset(out / name, format="parquet", partitioning=PARTITIONING)
        yield from dataset.to_batches(columns=columns, filter=ds.field("run").isin(runs))
