"""The corpus on disk (schema version 4) and how it is committed.

    OUT/documents/run=<id>/    one row per kept document          (Parquet, zstd)
    OUT/passages/run=<id>/     one row per paragraph of every readable input
    OUT/duplicates/run=<id>/   one row per dropped duplicate document, with its text
    OUT/rejects/run=<id>/      one row per input that could not be read or used
    OUT/index/                 what later runs deduplicate against (`cleaner.corpus.index`)
    OUT/manifest.json          the latest run's manifest; OUT/runs/<id>.json every run's

The corpus grows: each run adds a partition to each dataset and never rewrites one, so
`pyarrow.dataset.dataset(OUT / "documents", partitioning="hive")` or DuckDB's
`read_parquet('OUT/documents/*/*.parquet', hive_partitioning = true)` read every run.

Atomicity: a run writes everything into a hidden staging folder inside OUT (readers never
look there), then writes a commit journal listing the partitions to move, and moves them
into place, the manifest last. A run that fails before the journal leaves the corpus as it
was; one killed after it is rolled forward by the next run (`recover`), since the journal
records exactly what is left to move. A lock file keeps two runs from writing at once.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cleaner.document import Document, Reject, Status
from cleaner.errors import OutputError

SCHEMA_VERSION = 4
DATASETS = ("documents", "passages", "duplicates", "rejects")
MANIFEST = "manifest.json"  # the latest run's
RUNS = "runs"  # every run's manifest, as runs/<run id>.json
JOURNAL = ".commit.json"
LOCK = ".lock"  # held by the run writing to the folder
_FULL = 1 << 20  # a failed write with less free space than this on the device: the disk is full
_ROWS_PER_GROUP = 50_000
_CHARS_PER_GROUP = 32_000_000
_INDEX_ROWS_PER_GROUP = 16_384  # the index's datasets (`write_table`)

DOCUMENTS_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("site", pa.string()),
        ("title", pa.string()),
        ("author", pa.string()),
        ("published", pa.timestamp("us", tz="UTC")),
        ("fetched", pa.timestamp("us", tz="UTC")),
        ("language", pa.string()),  # ISO 639-1, null when unsure
        ("extraction", pa.string()),  # the trafilatura focus that made an HTML page's text
        ("text", pa.string()),
        ("n_passages", pa.int32()),  # paragraphs read from the input (rows in passages/)
        ("n_dropped_passages", pa.int32()),  # of which boilerplate or duplicate
    ]
)
PASSAGES_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),  # the document's, so that a rejected page's lines name their file
        ("position", pa.int32()),
        ("text", pa.string()),
        ("status", pa.string()),
        ("rule", pa.string()),
        ("duplicate_of_doc", pa.string()),
        ("duplicate_of_position", pa.int32()),
        ("similarity", pa.float64()),
    ]
)
DUPLICATES_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("title", pa.string()),
        ("duplicate_of", pa.string()),
        ("kind", pa.string()),
        ("similarity", pa.float64()),
        ("text", pa.string()),  # all its content, duplicate passages included
    ]
)
REJECTS_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("doc_id", pa.string()),  # where the record had become a document (its lines are in passages/)
    ]
)
SCHEMAS = {
    "documents": DOCUMENTS_SCHEMA,
    "passages": PASSAGES_SCHEMA,
    "duplicates": DUPLICATES_SCHEMA,
    "rejects": REJECTS_SCHEMA,
}


def new_run_id(now: datetime | None = None) -> str:
    """The time, then its microseconds and a random part: ids sort in the order the runs
    started, which, since the folder's lock lets one run at a time, is the order they
    committed (`check` relies on it for runs that added no document). With a random suffix
    alone, two runs of one second sorted at random, and `check` took the corpus for one
    whose manifest.json was an older copy put back."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{now:%f}{uuid.uuid4().hex[:2]}"


# -- rows ----------------------------------------------------------------------------------


def document_rows(docs: Iterable[Document], kept: Iterable[bool]) -> Iterator[dict]:
    """The rows of documents/: the documents `kept` says go into the corpus
    (`Sketch.kept_documents` decides)."""
    for doc, keep in zip(docs, kept, strict=True):
        if keep:
            yield {
                "doc_id": doc.doc_id,
                "source": doc.source,
                "url": doc.url,
                "site": doc.site,
                "title": doc.title,
                "author": doc.author,
                "published": doc.published,
                "fetched": doc.fetched,
                "language": doc.language,
                "extraction": doc.extraction,
                "text": doc.text,
                "n_passages": len(doc.passages),
                "n_dropped_passages": sum(p.status is not Status.KEPT for p in doc.passages),
            }


def passage_rows(docs: Iterable[Document]) -> Iterator[dict]:
    for doc in docs:
        for p in doc.passages:
            yield {
                "doc_id": doc.doc_id,
                "source": doc.source,
                "position": p.position,
                "text": p.text,
                "status": p.status.value,
                "rule": p.rule,
                "duplicate_of_doc": p.duplicate_of_doc,
                "duplicate_of_position": p.duplicate_of_position,
                "similarity": p.similarity,
            }


def duplicate_rows(docs: Iterable[Document]) -> Iterator[dict]:
    for doc in docs:
        if doc.is_duplicate:
            yield {
                "doc_id": doc.doc_id,
                "source": doc.source,
                "url": doc.url,
                "title": doc.title,
                "duplicate_of": doc.duplicate_of,
                "kind": doc.duplicate_kind.value,
                "similarity": doc.duplicate_similarity,
                "text": doc.content_text,
            }


def reject_rows(rejects: Iterable[Reject]) -> Iterator[dict]:
    for r in rejects:
        yield {"source": r.source, "reason": r.reason, "detail": r.detail, "doc_id": r.doc_id}


# -- writing -------------------------------------------------------------------------------


class _DatasetWriter:
    """Rows appended in tables to one zstd Parquet file, flushed a row group at a time: at
    50,000 rows, or sooner once the rows hold 32 million characters of text, so documents
    with their full text never pile up in memory until the end of a run.

    A row group is encoded and compressed on a thread of its own (pyarrow lets go of the
    GIL), while the run makes the next rows and the other datasets write theirs: one group
    at a time per dataset, in order, so a dataset holds at most one group more."""

    def __init__(self, folder: Path, schema: pa.Schema) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.schema = schema
        self.writer = pq.ParquetWriter(folder / "part-00000.parquet", schema, compression="zstd")
        self.buffer: list[pa.Table] = []
        self.rows = 0
        self.chars = 0
        self.count = 0
        self.writes = _InOrder()

    def extend(self, rows: Iterable[dict]) -> None:
        self.append(pa.Table.from_pylist(list(rows), schema=self.schema))

    def append(self, table: pa.Table) -> None:
        """Rows of this dataset's schema, as a table: cut into row groups where appending
        them one at a time would cut them."""
        if "text" in table.column_names:
            chars = pc.fill_null(pc.utf8_length(table.column("text")), 0).to_numpy().astype(np.int64)
        else:
            chars = np.zeros(table.num_rows, np.int64)
        start = 0
        while start < table.num_rows:
            # the row at which the group is full: by its rows, or by its characters
            total = np.cumsum(chars[start:]) + self.chars
            full = min(_ROWS_PER_GROUP - self.rows - 1, int(np.searchsorted(total, _CHARS_PER_GROUP)))
            end = min(start + full + 1, table.num_rows)
            self.buffer.append(table.slice(start, end - start))
            self.rows += end - start
            self.chars = int(total[end - start - 1])
            if self.rows >= _ROWS_PER_GROUP or self.chars >= _CHARS_PER_GROUP:
                self._flush()
            start = end

    def close(self) -> int:
        """Write what is left; a dataset with no rows is a file of its schema and no row
        group. A row group of no rows stopped Hugging Face `datasets`, which takes its batch
        size from the first group ("BatchSize must be greater than 0")."""
        try:
            if self.buffer:
                self._flush()
            self.writes.wait()
        finally:
            self.writes.wait(raising=False)
            self.writer.close()
        return self.count

    def _flush(self) -> None:
        table = pa.concat_tables(self.buffer)
        self.writes.submit(self.writer.write_table, table, row_group_size=table.num_rows)
        self.count += table.num_rows
        self.buffer = []
        self.rows = 0
        self.chars = 0


class _InOrder:
    """Calls run one at a time, in the order submitted, on a writing thread (`_writing`):
    a Parquet writer's row groups, encoded and compressed while the caller goes on."""

    def __init__(self) -> None:
        self.pending: Future | None = None

    def submit(self, call: Callable[..., object], *args, **kwargs) -> None:
        self.wait()
        self.pending = _writing().submit(call, *args, **kwargs)

    def wait(self, raising: bool = True) -> None:
        """Let the call under way finish; its error (a full disk) is raised here."""
        pending, self.pending = self.pending, None
        if pending is not None:
            if raising:
                pending.result()
            else:
                wait([pending])


_THREADS: dict[int, ThreadPoolExecutor] = {}


def _writing() -> ThreadPoolExecutor:
    """The threads row groups are written on, one per dataset a run writes at once: this
    process's own (a forked worker's copy of its parent's pool has no threads)."""
    pid = os.getpid()
    if pid not in _THREADS:
        _THREADS.clear()
        _THREADS[pid] = ThreadPoolExecutor(max_workers=len(DATASETS), thread_name_prefix="cleaner-write")
    return _THREADS[pid]


def write_table(table: pa.Table, folder: Path, name: str = "part-00000.parquet") -> None:
    """A table as one partition file, written a row group at a time: `table` may also be
    rows made as they are asked for (`index.PassageRows`), which never exist all at once."""
    write_batches(table.schema, table.to_batches(max_chunksize=_INDEX_ROWS_PER_GROUP), folder, name)


def write_batches(
    schema: pa.Schema, batches: Iterable[pa.RecordBatch], folder: Path, name: str = "part-00000.parquet"
) -> None:
    """Batches of any sizes as one partition file of row groups of 16,384 rows, so that
    writing holds little. The index's hashes and ids do not repeat, so no dictionary
    encoding: it would only cost time, and memory when read back. Columns are zstd-compressed
    but for those whose field says `{"compression": "none"}` (random hashes, which zstd
    cannot shrink and only slows down to read)."""
    folder.mkdir(parents=True, exist_ok=True)
    compression = {
        f.name: "none" if (f.metadata or {}).get(b"compression") == b"none" else "zstd" for f in schema
    }
    size = _INDEX_ROWS_PER_GROUP
    with pq.ParquetWriter(folder / name, schema, compression=compression, use_dictionary=False) as writer:
        writes = _InOrder()  # a group is written while the next batches are made
        try:
            pending = schema.empty_table()
            written = False
            for batch in batches:
                pending = pa.concat_tables([pending, pa.Table.from_batches([batch], schema)])
                while pending.num_rows >= size:
                    writes.submit(writer.write_table, pending.slice(0, size))
                    pending, written = pending.slice(size), True
            if pending.num_rows or not written:  # the rest; for no rows, one empty row group
                writes.submit(writer.write_table, pending)
            writes.wait()
        finally:
            writes.wait(raising=False)


def loose_files(out: Path) -> list[Path]:
    """Parquet files directly in a dataset's folder, outside any run's partition: a corpus
    of schema version 1 wrote one file per dataset there. Read as a dataset with the
    partitions, their rows would join every run's."""
    return [path for name in DATASETS for path in sorted((out / name).glob("*.parquet"))]


@contextmanager
def open_run(out: str | Path, run_id: str) -> Iterator[Path]:
    """Hold the output folder for a whole run: lock it, finish or clear what an earlier run
    left, and give this run a staging folder (for its spool and its datasets). The staging
    folder is removed if the run fails before its commit journal is written."""
    out = Path(out)
    with locked(out):
        recover(out)
        if loose_files(out):
            raise OutputError(
                f"{out} holds a corpus of schema version 1 (one file per dataset), which "
                "cannot be appended to: write to a new --out"
            )
        if (out / MANIFEST).exists():
            version = read_manifest(out / MANIFEST).get("schema_version")
            if version != SCHEMA_VERSION:
                raise OutputError(
                    f"{out} holds a corpus of schema version {version}, this cleaner writes "
                    f"version {SCHEMA_VERSION}; its partitions could not be read as one dataset "
                    "with the new ones: write to a new --out"
                )
        staging = out / f".staging-{run_id}"
        try:
            staging.mkdir()
        except OSError as exc:
            raise disk_error(out, exc) or exc from None
        try:
            yield staging
        except BaseException as exc:
            error = disk_error(out, exc, staging)
            if not (out / JOURNAL).exists():  # a journaled commit is finished by `recover`
                shutil.rmtree(staging, ignore_errors=True)
            if error is not None:
                raise error from None
            raise


def disk_error(
    out: Path, exc: BaseException, staging: Path | None = None, way: str = "write to another --out"
) -> OutputError | None:
    """The one line for a full disk (or quota): which folder, what the run had written, how
    much is free, and what became of the corpus: as it was, or, once a commit's journal is
    written, committed in part, which the next run or `cleaner check --repair` finishes when
    there is space. A write cut short says so in its errno, or, from numpy ("491520
    requested and 429024 written"), only in the free space left."""
    if not isinstance(exc, OSError):
        return None
    free = shutil.disk_usage(out).free
    if exc.errno not in (errno.ENOSPC, errno.EDQUOT) and not (exc.errno is None and free < _FULL):
        return None
    if staging is not None and staging.exists():
        needed = f"the run had written {_mb(_size(staging))} to it and needed more, {_mb(free)} is free"
    else:
        needed = f"{_mb(free)} is free"
    if (out / JOURNAL).exists():
        return OutputError(
            f"no space left on the device of {out}: {needed}; the commit under way is half done, and the "
            f"next run or `cleaner check {out} --repair` finishes it once there is space"
        )
    return OutputError(
        f"no space left on the device of {out}: {needed}; free space there or {way} (the corpus is as it was)"
    )


@contextmanager
def disk_said(out: Path, way: str = "write to another --out") -> Iterator[None]:
    """Around writes to the corpus in `out`: a full disk is said in one line (`disk_error`),
    any other error raised as it is."""
    try:
        yield
    except OSError as exc:
        error = disk_error(out, exc, way=way)
        if error is None:
            raise
        raise error from None


def _size(folder: Path) -> int:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


class CorpusWriter:
    """Writes the corpus into a run's staging folder batch by batch, in input order, and
    counts what it wrote for the manifest; `commit` moves it into place atomically."""

    def __init__(self, staging: Path) -> None:
        self.staging = staging
        self.run_id = staging.name.removeprefix(".staging-")
        self.partition = f"run={self.run_id}"
        self.start = time.perf_counter()
        self.datasets = {
            name: _DatasetWriter(staging / name / self.partition, SCHEMAS[name])
            for name in ("documents", "passages", "duplicates")
        }
        self.tally = Tally()

    def add(self, docs: Sequence[Document], kept: Sequence[bool]) -> None:
        """Write `docs` with their verdicts; `kept[i]` says whether docs[i] goes into
        documents/ (`Sketch.kept_of`); every passage goes into passages/."""
        self.datasets["documents"].extend(document_rows(docs, kept))
        self.datasets["passages"].extend(passage_rows(docs))
        self.datasets["duplicates"].extend(duplicate_rows(docs))
        self.tally.add(docs, kept)

    def add_tables(self, documents: pa.Table, passages: pa.Table, duplicates: pa.Table) -> None:
        """Write rows made as tables of the datasets' schemas (`cleaner.spool.place`); the
        caller counts them (`Tally.add_counts`)."""
        self.datasets["documents"].append(documents)
        self.datasets["passages"].append(passages)
        self.datasets["duplicates"].append(duplicates)

    def commit(
        self,
        rejects: Sequence[Reject],
        manifest: dict,
        extra: dict[str, pa.Table] | None = None,  # or rows made as written (`write_table`)
        files: dict[str, str] | None = None,
        replace: bool = False,
        discard: Sequence[Path] = (),
    ) -> dict:
        """Write the rejects and the manifest, completed with the counts (`Tally`), the rows
        per dataset and the time spent writing (`timings_seconds["write"]`), and move
        everything into place. `extra` tables (the dedup index's) are written as partitions
        of the datasets their keys name (or as the file a key ending in .parquet names), and
        `files` where their keys say unless one is there already, all committed with the
        corpus. With `replace`, the run replaces the whole corpus (`cleaner run --reprocess`):
        every earlier run's files are retired in the same commit. `discard` are folders of
        the staging folder that are not part of the corpus (the run's spool), removed once
        the tables are written, before the sync. Returns the manifest as written."""
        out = self.staging.parent

        def exists(rel: str) -> bool:
            return not replace and (out / rel).exists()

        rejects_writer = _DatasetWriter(self.staging / "rejects" / self.partition, REJECTS_SCHEMA)
        rejects_writer.extend(reject_rows(sorted(rejects, key=lambda r: (r.source, r.reason))))
        self.datasets["rejects"] = rejects_writer
        rows = {name: writer.close() for name, writer in self.datasets.items()}
        moves = []
        for name, writer in self.datasets.items():
            # an empty partition only where the dataset has none yet, so readers find a schema
            if rows[name] or not exists(name):
                moves.append(f"{name}/{self.partition}")
            else:
                shutil.rmtree(writer.folder)
        for name, table in (extra or {}).items():
            if name.endswith(".parquet"):
                write_table(table, (self.staging / name).parent, Path(name).name)
                moves.append(name)
            elif table.num_rows or not exists(name):
                folder = self.staging / name / self.partition
                write_table(table, folder)
                moves.append(f"{name}/{self.partition}")
        for rel, text in (files or {}).items():  # written once: an existing one is kept
            if not exists(rel):
                (self.staging / rel).parent.mkdir(parents=True, exist_ok=True)
                (self.staging / rel).write_text(text, encoding="utf-8")
                moves.append(rel)
        for folder in discard:
            shutil.rmtree(folder, ignore_errors=True)
        timings = {**manifest.get("timings_seconds", {}), "write": round(time.perf_counter() - self.start, 4)}
        manifest = {
            **manifest,
            "counts": self.tally.counts(rejects),
            "rows": {name: rows[name] for name in DATASETS},
            "timings_seconds": timings,
        }
        _write_json(self.staging / MANIFEST, manifest)
        retire = [rel for rel in (*DATASETS, "index", RUNS) if (out / rel).exists()] if replace else []
        commit_staged(self.staging, moves, retire, manifest["run_id"])
        return manifest


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the output folder's lock (creating the folder if need be) for the block. A
    folder made for a run that then committed nothing (no input, an error, a stop) is
    removed again, so the corpus is as it was: not there."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path exists and is not a folder: {out}")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = open(out / LOCK, "a+")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {out}: {exc.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"another cleaner run is writing to {out}; wait for it to finish") from None
        try:
            yield
        finally:
            if created and [p.name for p in out.iterdir()] == [LOCK]:
                with suppress(OSError):
                    (out / LOCK).unlink()
                    out.rmdir()


def read_only(out: Path) -> bool:
    """Whether `out` lies on a file system mounted read-only (a backup, a snapshot)."""
    try:
        return bool(os.statvfs(out).f_flag & os.ST_RDONLY)
    except OSError:
        return False


@contextmanager
def locked_to_read(out: Path) -> Iterator[None]:
    """The lock for reading the whole corpus through (`cleaner check`), so that a run does
    not commit meanwhile; on a read-only file system none is needed, nor can one be taken."""
    if read_only(out):
        yield
        return
    with locked(out):
        yield


def corpus_totals(out: str | Path) -> dict[str, int]:
    """Documents, duplicate documents and rejects of every committed run, and the runs: the
    rows each run's record says it wrote, which a record rebuilt by `cleaner check --repair`
    holds too (it has no counts)."""
    totals = Counter(runs=0)
    for path in (Path(out) / RUNS).glob("*.json"):
        rows = json.loads(path.read_text(encoding="utf-8")).get("rows") or {}
        totals["runs"] += 1
        for key, dataset in (
            ("documents", "documents"),
            ("duplicate_documents", "duplicates"),
            ("rejects", "rejects"),
        ):
            totals[key] += rows.get(dataset, 0)
    return {key: totals[key] for key in ("documents", "duplicate_documents", "rejects", "runs")}


def committed_runs(out: str | Path) -> set[str]:
    """The ids of the runs committed to a corpus (their manifests in runs/)."""
    return {p.stem for p in (Path(out) / RUNS).glob("*.json")}


def commit_pending(out: str | Path) -> bool:
    """Whether a commit journal waits to be applied (`recover`, at the next run)."""
    return (Path(out) / JOURNAL).exists()


def settle(out: str | Path) -> None:
    """After a run was stopped: finish its commit if its journal was written (it may have
    been stopped half-way through the renames), else remove what it staged. A folder another
    run holds is left alone."""
    out = Path(out)
    if not out.is_dir():
        return
    try:
        with locked(out):
            recover(out)
    except OutputError:
        pass


def commit_staged(staging: Path, moves: Sequence[str], retire: Sequence[str] = (), run_id: str = "") -> None:
    """Move `moves` (paths relative to the staging folder and the corpus alike) into place,
    after moving `retire` (paths in the corpus) out of the way, under the commit journal:
    a crash at any point leaves a corpus the next run (`recover`) completes. A manifest in
    the staging folder is committed last, as run `run_id`'s."""
    out = staging.parent
    _fsync_tree(staging)
    journal = {"run_id": run_id, "staging": staging.name, "moves": list(moves), "retire": list(retire)}
    _write_json(out / JOURNAL, journal)
    _apply_journal(out)


def read_manifest(path: Path) -> dict:
    """A manifest, or an `OutputError` that names the damaged file and the way out."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not a JSON manifest"
        corpus = path.parent.parent if path.parent.name == RUNS else path.parent
        raise OutputError(
            f"{path} cannot be read ({reason}): run `cleaner check {corpus} --repair`"
        ) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("run_id"), str):
        raise OutputError(f"{path} is not a cleaner manifest (no run_id)")
    return manifest


def recover(out: Path) -> None:
    """Finish a commit a killed run left half-done, and remove a failed run's staging."""
    if (out / JOURNAL).exists():
        with disk_said(out):
            _apply_journal(out)
    for leftover in out.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in out.glob(".trash-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _apply_journal(out: Path) -> None:
    """Move the run's new partitions, then its manifest, into place. Nothing existing is
    replaced but the manifest, and every step checks what is already done, so running it
    again after a crash completes the same commit."""
    try:
        journal = json.loads((out / JOURNAL).read_text(encoding="utf-8"))
        staging = out / journal["staging"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):  # damaged from outside: it is written whole
        raise OutputError(unreadable_journal(out)) from None
    trash = out / f".trash-{journal['staging'].removeprefix('.staging-')}"
    # Retired first, and only while nothing is moved yet: once a move is done, so are they.
    # One in the trash already was retired before a crash; what is at its place now is the
    # folder the first move made for itself (a crash between its mkdir and its rename).
    retire = [rel for rel in journal.get("retire", []) if (out / rel).exists() and not (trash / rel).exists()]
    if retire and all((staging / rel).exists() for rel in journal["moves"]):
        for rel in retire:
            (trash / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).rename(trash / rel)
        _fsync_dir(out)
    for rel in journal["moves"]:
        new, target = staging / rel, out / rel
        if new.exists():  # else moved already
            target.parent.mkdir(parents=True, exist_ok=True)
            new.rename(target)
            _fsync_dir(target.parent)
    if (staging / MANIFEST).exists():
        runs = out / RUNS
        runs.mkdir(exist_ok=True)
        # copied under a hidden name, then renamed: a reader never finds it half-written
        _copy_durably(staging / MANIFEST, runs / f"{journal['run_id']}.json")
        os.replace(staging / MANIFEST, out / MANIFEST)
    _fsync_dir(out)
    (out / JOURNAL).unlink()
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(trash, ignore_errors=True)


def unreadable_journal(out: Path) -> str:
    return (
        f"{out / JOURNAL} cannot be read: the commit it records cannot be finished from it; move it "
        f"away, then `cleaner check {out} --repair` rebuilds what the corpus holds enough to rebuild"
    )


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _copy_durably(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, dst)
    _fsync_dir(dst.parent)


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- manifest ------------------------------------------------------------------------------


class Tally:
    """Counts per status, rule and duplicate kind over the documents written."""

    def __init__(self) -> None:
        self.statuses = Counter({s.value: 0 for s in Status})
        self.rules: Counter = Counter()
        self.kinds: Counter = Counter()
        self.documents = 0

    def add(self, docs: Iterable[Document], kept: Iterable[bool]) -> None:
        for doc, keep in zip(docs, kept, strict=True):
            for p in doc.passages:
                self.statuses[p.status.value] += 1
                if p.rule:
                    self.rules[p.rule] += 1
            if doc.is_duplicate:
                self.kinds[doc.duplicate_kind.value] += 1
            self.documents += keep

    def add_counts(self, statuses: Counter, rules: Counter, kinds: Counter, documents: int) -> None:
        """Counts made elsewhere of the documents written (`cleaner.spool.place`)."""
        self.statuses.update(statuses)
        self.rules.update(rules)
        self.kinds.update(kinds)
        self.documents += documents

    def counts(self, rejects: Sequence[Reject]) -> dict:
        return {
            "documents": self.documents,
            "duplicate_documents": sum(self.kinds.values()),
            "rejects": len(rejects),
            "passages": sum(self.statuses.values()),
            "passages_by_status": dict(self.statuses),
            "boilerplate_by_rule": dict(sorted(self.rules.items(), key=lambda kv: (-kv[1], kv[0]))),
            "duplicates_by_kind": dict(sorted(self.kinds.items())),
            "rejects_by_reason": dict(sorted(Counter(r.reason for r in rejects).items())),
        }


# What a run's manifest says of itself: `build_manifest`'s fields, the writer's counts and
# rows, the index's record and what a reprocess supersedes. A run's labels (`cleaner.run`)
# may not replace them.
MANIFEST_FIELDS = frozenset(
    {
        "schema_version", "run_id", "created_at", "inputs", "config", "stages", "timings_seconds",
        "versions", "counts", "rows", "index", "supersedes",
    }
)  # fmt: skip


def build_manifest(
    *,
    run_id: str,
    inputs: Sequence[str],
    config: dict,
    stages: dict[str, dict],
    timings: dict[str, float],
    versions: dict[str, str],
) -> dict:
    """What the run did: configuration, what each stage reported and the time each stage
    took. The writer adds the counts per status, rule, reason and kind, and the rows."""
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": list(inputs),
        "config": config,
        "stages": stages,
        "timings_seconds": {k: round(v, 4) for k, v in timings.items()},
        "versions": versions,
    }
