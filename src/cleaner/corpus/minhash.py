"""A corpus's passage signatures as datasketch `LeanMinHash`es, for datasketch's own indexes.

    from datasketch import MinHashLSHForest
    from cleaner.corpus.minhash import signatures

    forest = MinHashLSHForest(num_perm=128)
    for doc_id, position, minhash in signatures("output"):
        forest.add((doc_id, position), minhash)
    forest.index()

Our signatures are bit for bit what datasketch computes (`cleaner.dedup.signatures`), so a
`LeanMinHash` made of one is datasketch's MinHash of that passage: with the corpus's seed,
number of permutations and permutation scheme (`index/params.json`), comparable with any
`datasketch.MinHash(num_perm, seed, scheme="affine32", hashfunc=shingle_hashfunc(config))`
of another text, and usable in `MinHashLSH`, `MinHashLSHForest` and `MinHashLSHEnsemble`.

`signatures` covers every kept passage of the corpus's documents: the text of the corpus.
Each is computed from the passage's text with the corpus's settings, which gives the very
values the run that wrote it computed (the index stores band keys, not signatures).
`signature_of` gives the signature of any passage of `passages/`, whatever its status. Only
committed runs are read (their manifests in `runs/`), a batch of rows at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from datasketch import LeanMinHash

from cleaner.config import DedupConfig
from cleaner.corpus.index import INDEX, PARAMS, read_params
from cleaner.corpus.writers import PASSAGES_SCHEMA, committed_runs
from cleaner.dedup.signatures import SCHEME, Signer
from cleaner.document import Status
from cleaner.errors import OutputError

_BATCH_ROWS = 4096  # rows of passages/ read, and signatures computed, at a time


class PassageSignature(NamedTuple):
    """A passage of the corpus (`passages/`: doc_id, position) and its MinHash."""

    doc_id: str
    position: int
    minhash: LeanMinHash


def corpus_settings(out: str | Path) -> DedupConfig:
    """The MinHash settings of the corpus in `out` (its `index/params.json`): what its
    signatures were made with, and what a query's `datasketch.MinHash` must be made with."""
    out = Path(out)
    if not (out / INDEX).is_dir():
        raise OutputError(f"{out} holds no corpus index (index/): is it a corpus written by `cleaner run`?")
    params = read_params(out)
    missing = [name for name in PARAMS if name not in params]
    if missing:
        raise OutputError(f"{out / INDEX} lacks settings {missing}: run `cleaner check {out} --repair`")
    return DedupConfig(**{name: params[name] for name in PARAMS})


def signatures(
    out: str | Path, doc_ids: Iterable[str] | None = None, batch_rows: int = _BATCH_ROWS
) -> Iterator[PassageSignature]:
    """(doc_id, position, LeanMinHash) of every kept passage of the corpus's documents (of
    the documents `doc_ids` only, when given), run after run, in the order they were written.

    Reads `batch_rows` rows of `passages/` at a time, and computes their signatures
    together: memory follows the batch, not the corpus (bar what the caller keeps of what is
    yielded)."""
    out = Path(out)
    config = corpus_settings(out)
    signer = Signer(config)
    wanted = None if doc_ids is None else pa.array(sorted(set(doc_ids)), pa.string())
    for run in _runs(out):
        docs = _kept_documents(out, run, wanted)
        expected = next(docs, None)
        if expected is None:
            continue  # none of the run's documents is wanted
        current: str | None = None
        for batch in _kept_passages(out, run, wanted, batch_rows):
            ids = batch.column("doc_id").to_pylist()
            rows = []
            for i, doc_id in enumerate(ids):
                # passages/ holds the rows of the run's documents in index/documents order,
                # between those of its duplicate documents and rejects, which are skipped.
                if doc_id != current:
                    if expected is None or doc_id != expected[1]:
                        continue
                    current, expected = doc_id, next(docs, None)
                rows.append(i)
            if not rows:
                continue
            taken = batch.take(pa.array(rows))
            values = signer(taken.column("text").to_pylist()).values
            for doc_id, position, v in zip(
                taken.column("doc_id").to_pylist(), taken.column("position").to_pylist(), values, strict=True
            ):
                yield PassageSignature(doc_id, position, _lean(v, config))
        if expected is not None:
            raise OutputError(
                f"passages/run={run} lacks kept passages of document {expected[1]!r} of "
                f"{INDEX}/documents/run={run}: run `cleaner check {out}`"
            )


def signature_of(out: str | Path, doc_id: str, position: int) -> LeanMinHash:
    """The LeanMinHash of one passage of `passages/` (by its doc_id and position), whatever
    its status: a kept passage's as `signatures` gives it, another's (a duplicate or
    boilerplate line, a passage of a dropped duplicate document) computed from its text.
    A `KeyError` when the corpus has no such passage."""
    out = Path(out)
    config = corpus_settings(out)
    for found in signatures(out, [doc_id]):
        if found.position == position:
            return found.minhash
    where = (pc.field("doc_id") == doc_id) & (pc.field("position") == position)
    # Latest first: an id whose document was dropped as a duplicate may come back later.
    for run in sorted(committed_runs(out), reverse=True):
        files = _files(out / "passages" / f"run={run}")
        if files:
            table = ds.dataset(files, format="parquet", schema=PASSAGES_SCHEMA).to_table(
                columns=["text"], filter=where
            )
            if table.num_rows:
                return _lean(Signer(config)(table["text"].to_pylist()[:1]).values[0], config)
    raise KeyError((doc_id, position))


def _lean(values: np.ndarray, config: DedupConfig) -> LeanMinHash:
    return LeanMinHash(seed=config.seed, hashvalues=values, scheme=SCHEME)


def _files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.glob("*.parquet"))


def _runs(out: Path) -> list[str]:
    """The committed runs that indexed documents, in the order they ran: by the number of
    their first document (run ids sort by the second they started in, then at random)."""
    committed = committed_runs(out)
    first = {}
    for folder in (out / INDEX / "documents").glob("run=*"):
        run = folder.name.removeprefix("run=")
        number = _first_document(folder) if run in committed else None
        if number is not None:
            first[run] = number
    return sorted(first, key=first.__getitem__)


def _first_document(folder: Path) -> int | None:
    for path in _files(folder):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1, columns=["doc"]):
            if batch.num_rows:
                return batch.column("doc")[0].as_py()
    return None


def _kept_documents(out: Path, run: str, wanted: pa.Array | None) -> Iterator[tuple[int, str]]:
    """(number, doc_id) of the run's documents (the wanted ones), in order."""
    for path in _files(out / INDEX / "documents" / f"run={run}"):
        for batch in pq.ParquetFile(path).iter_batches(columns=["doc", "doc_id"]):
            if wanted is not None:
                batch = batch.filter(pc.is_in(batch.column("doc_id"), value_set=wanted))
            yield from zip(batch.column("doc").to_pylist(), batch.column("doc_id").to_pylist(), strict=True)


def _kept_passages(out: Path, run: str, wanted: pa.Array | None, batch_rows: int) -> Iterator[pa.RecordBatch]:
    """The run's rows of `passages/` with status kept (of the wanted documents), in order."""
    columns = ["doc_id", "position", "status", "text"]
    for path in _files(out / "passages" / f"run={run}"):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=batch_rows, columns=columns):
            keep = pc.equal(batch.column("status"), Status.KEPT.value)
            if wanted is not None:
                keep = pc.and_(keep, pc.is_in(batch.column("doc_id"), value_set=wanted))
            yield batch.filter(keep)
