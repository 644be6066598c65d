"""The corpus on disk (schema version 1) and how it is committed.

    OUT/documents/   one row per kept document          (Parquet dataset, zstd)
    OUT/passages/    one row per paragraph of every readable input
    OUT/duplicates/  one row per dropped duplicate document, with its text
    OUT/rejects/     one row per input that could not be read or used
    OUT/manifest.json

Atomicity: a run writes everything into a hidden staging folder inside OUT (readers such as
`pyarrow.dataset` and DuckDB globs over `documents/` never look there), then writes a commit
journal and moves the new datasets into place, the manifest last. A run that fails before
the journal leaves the previous corpus untouched; one killed after it is rolled forward by
the next run (`recover`), since the journal records exactly what is left to move. A lock
file keeps two runs from writing the same folder at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from cleaner.document import Document, Reject, Status
from cleaner.errors import OutputError

SCHEMA_VERSION = 1
DATASETS = ("documents", "passages", "duplicates", "rejects")
MANIFEST = "manifest.json"
_JOURNAL = ".commit.json"
_LOCK = ".lock"
_ROWS_PER_GROUP = 50_000

DOCUMENTS_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("url", pa.string()),
        ("site", pa.string()),
        ("title", pa.string()),
        ("author", pa.string()),
        ("published", pa.timestamp("us", tz="UTC")),
        ("text", pa.string()),
        ("n_passages", pa.int32()),  # paragraphs read from the input (rows in passages/)
        ("n_dropped_passages", pa.int32()),  # of which boilerplate or duplicate
    ]
)
PASSAGES_SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
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
REJECTS_SCHEMA = pa.schema([("source", pa.string()), ("reason", pa.string()), ("detail", pa.string())])
SCHEMAS = {
    "documents": DOCUMENTS_SCHEMA,
    "passages": PASSAGES_SCHEMA,
    "duplicates": DUPLICATES_SCHEMA,
    "rejects": REJECTS_SCHEMA,
}


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


# -- rows ----------------------------------------------------------------------------------


def is_kept(doc: Document) -> bool:
    """A document is in the corpus unless it is a duplicate or nothing of it survived cleaning."""
    return not doc.is_duplicate and any(p.status is Status.KEPT for p in doc.passages)


def document_rows(docs: Iterable[Document]) -> Iterator[dict]:
    for doc in docs:
        if is_kept(doc):
            yield {
                "doc_id": doc.doc_id,
                "source": doc.source,
                "url": doc.url,
                "site": doc.site,
                "title": doc.title,
                "author": doc.author,
                "published": doc.published,
                "text": doc.text,
                "n_passages": len(doc.passages),
                "n_dropped_passages": sum(p.status is not Status.KEPT for p in doc.passages),
            }


def passage_rows(docs: Iterable[Document]) -> Iterator[dict]:
    for doc in docs:
        for p in doc.passages:
            yield {
                "doc_id": doc.doc_id,
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
        yield {"source": r.source, "reason": r.reason, "detail": r.detail}


# -- writing -------------------------------------------------------------------------------


def write_dataset(folder: Path, schema: pa.Schema, rows: Iterable[dict]) -> int:
    """Write rows as one zstd Parquet file in `folder`, in row groups; returns the row count.
    An empty dataset still gets a file, so readers always find the schema."""
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    with pq.ParquetWriter(folder / "part-00000.parquet", schema, compression="zstd") as writer:
        chunk: list[dict] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= _ROWS_PER_GROUP:
                writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
                count += len(chunk)
                chunk = []
        if chunk or count == 0:
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
            count += len(chunk)
    return count


def write_corpus(
    out: str | Path, docs: Sequence[Document], rejects: Sequence[Reject], manifest: dict
) -> dict[str, int]:
    """Write the whole corpus to `out` atomically; returns rows written per dataset. The
    time spent writing is added to the manifest's `timings_seconds` as "write"."""
    start = time.perf_counter()
    out = Path(out)
    docs = sorted(docs, key=lambda d: d.order)
    rejects = sorted(rejects, key=lambda r: (r.source, r.reason))
    with locked(out):
        recover(out)
        staging = out / f".staging-{manifest['run_id']}"
        staging.mkdir()
        rows = {
            "documents": write_dataset(staging / "documents", DOCUMENTS_SCHEMA, document_rows(docs)),
            "passages": write_dataset(staging / "passages", PASSAGES_SCHEMA, passage_rows(docs)),
            "duplicates": write_dataset(staging / "duplicates", DUPLICATES_SCHEMA, duplicate_rows(docs)),
            "rejects": write_dataset(staging / "rejects", REJECTS_SCHEMA, reject_rows(rejects)),
        }
        timings = {**manifest.get("timings_seconds", {}), "write": round(time.perf_counter() - start, 4)}
        _write_json(staging / MANIFEST, {**manifest, "rows": rows, "timings_seconds": timings})
        _fsync_tree(staging)
        _write_json(out / _JOURNAL, {"run_id": manifest["run_id"], "staging": staging.name})
        _apply_journal(out)
    return rows


@contextmanager
def locked(out: Path) -> Iterator[None]:
    if out.exists() and not out.is_dir():
        raise OutputError(f"output path exists and is not a folder: {out}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        handle = open(out / _LOCK, "a+")  # noqa: SIM115 (closed by the with below)
    except OSError as exc:
        raise OutputError(f"cannot write to output folder {out}: {exc.strerror}") from None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputError(f"another cleaner run is writing to {out}; wait for it to finish") from None
        yield


def recover(out: Path) -> None:
    """Finish a commit a killed run left half-done, and remove a failed run's staging."""
    if (out / _JOURNAL).exists():
        _apply_journal(out)
    for leftover in out.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in out.glob(".trash-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _apply_journal(out: Path) -> None:
    """Move the staged datasets into place. Every step checks what is already done, so
    running it again after a crash completes the same commit."""
    journal = json.loads((out / _JOURNAL).read_text())
    staging = out / journal["staging"]
    trash = out / f".trash-{journal['run_id']}"
    for name in DATASETS:
        new, current = staging / name, out / name
        if not new.exists():
            continue  # moved already
        if current.exists():
            trash.mkdir(exist_ok=True)
            current.rename(trash / name)
        new.rename(current)
    if (staging / MANIFEST).exists():
        os.replace(staging / MANIFEST, out / MANIFEST)
    _fsync_dir(out)
    (out / _JOURNAL).unlink()
    shutil.rmtree(trash, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2, ensure_ascii=False, default=str)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


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


def build_manifest(
    *,
    run_id: str,
    inputs: Sequence[str],
    config: dict,
    docs: Sequence[Document],
    rejects: Sequence[Reject],
    stages: dict[str, dict],
    timings: dict[str, float],
    versions: dict[str, str],
) -> dict:
    """What the run did: configuration, counts per status, rule, reason and kind, what each
    stage reported, and the time each stage took."""
    statuses = Counter({s.value: 0 for s in Status})
    rules: Counter = Counter()
    for doc in docs:
        for p in doc.passages:
            statuses[p.status.value] += 1
            if p.rule:
                rules[p.rule] += 1
    kinds = Counter(d.duplicate_kind.value for d in docs if d.is_duplicate)
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": list(inputs),
        "config": config,
        "counts": {
            "documents": sum(1 for d in docs if is_kept(d)),
            "duplicate_documents": sum(kinds.values()),
            "rejects": len(rejects),
            "passages": sum(statuses.values()),
            "passages_by_status": dict(statuses),
            "boilerplate_by_rule": dict(sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))),
            "duplicates_by_kind": dict(sorted(kinds.items())),
            "rejects_by_reason": dict(sorted(Counter(r.reason for r in rejects).items())),
        },
        "stages": stages,
        "timings_seconds": {k: round(v, 4) for k, v in timings.items()},
        "versions": versions,
    }
