"""The per-batch half of a run, and the spool that keeps cleaned documents until the write.

A run streams its inputs: each batch of files is read, extracted, cleaned and sketched on
its own (in any process: `prepare_batch` needs only its arguments), its documents go to the
spool on disk, and only the batch's `Sketch` comes back. The whole-corpus stages (repeated
ids, learned boilerplate, dedup) then work on the joined sketches, and the writer reads the
spool back one batch at a time, applying their verdicts. Memory holds one batch of texts per
worker plus the corpus's sketch, never the corpus.
"""

from __future__ import annotations

import os
import pickle
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cleaner import clean, extract, language, readers, writers
from cleaner.config import Config, DedupConfig
from cleaner.document import Document, Reject
from cleaner.signatures import Signer
from cleaner.sketch import Sketch

SPOOL = "spool"  # the spool's folder in a run's staging folder


@dataclass
class BatchResult:
    """What a batch sends back: its sketch, its rejects and what each step counted."""

    index: int
    sketch: Sketch
    read_rejects: list[Reject]
    extract_rejects: list[Reject]
    inputs: list[readers.Seen] = field(default_factory=list)  # to recognise them next time
    counts: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)  # boilerplate lines per written rule
    seconds: dict[str, float] = field(default_factory=dict)  # time per step, in this batch


def prepare_batch(
    number: int, files: list[tuple[int, readers.InputFile]], config: Config, spool: str
) -> BatchResult:
    """Read, extract, clean and sketch one batch of (input rank, file) pairs; spool its
    documents as batch `number`."""
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def step(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[name] = now - clock
        clock = now

    skipped: Counter = Counter()  # records passed over by design: warc_skipped_<kind>
    docs, read_rejects, inputs = readers.read_files(files, config.read, skipped)
    step("read")
    html_pages = sum(1 for d in docs if d.html is not None)
    docs, extract_rejects = extract.extract_batch(docs, config.extract)
    step("extract")
    for doc in docs:
        doc.language = language.identify(doc.body or "")
    step("language")
    docs = clean.clean_batch(docs, config.clean)
    step("clean")
    sketch = Sketch.of(docs, config.dedup, _signer(config.dedup))
    step("sketch")
    write_spool(spool, number, docs)
    # The signatures go to the spool too, and the flow reads them straight into the corpus's
    # array: sent back in the result they were held three times over (its pickle, its copy,
    # the joined array), most of the flow's peak memory.
    values = sketch.values
    _write_atomically(values_file(spool, number), lambda fh: np.save(fh, values))
    sketch.values = sketch.values[:0].copy()
    step("spool")
    counts = Counter(
        files=len(files),
        records=len(docs) + len(read_rejects) + len(extract_rejects),
        read_rejects=len(read_rejects),
        html_pages=html_pages,
        extract_rejects=len(extract_rejects),
        lines=sketch.n_passages,
    )
    counts.update(skipped)
    rules = Counter(p.rule for d in docs for p in d.passages if p.rule)
    return BatchResult(
        index=number,
        sketch=sketch,
        read_rejects=read_rejects,
        extract_rejects=extract_rejects,
        inputs=inputs,
        counts=counts,
        rules=rules,
        seconds=seconds,
    )


@lru_cache(maxsize=4)
def _signer(config: DedupConfig) -> Signer:
    """One signer per configuration and process: its word-hash cache serves every batch."""
    return Signer(config)


def spool_texts(
    spool: str | Path, sketch: Sketch, batch_docs: Sequence[int]
) -> Callable[[np.ndarray], list[str]]:
    """Reads the texts of signature rows of the sketch back from the spool, for dedup's
    exact check; `batch_docs` is the number of documents of each batch. One batch's
    documents are in memory at a time."""

    def texts(rows: np.ndarray) -> list[str]:
        passages = sketch.signed_passages(rows)
        docs = np.searchsorted(sketch.starts, passages, side="right") - 1
        firsts = np.concatenate(([0], np.cumsum(batch_docs)))
        batches = np.searchsorted(firsts, docs, side="right") - 1
        out: list[str] = [""] * len(rows)
        for b in np.unique(batches).tolist():
            batch = read_spool(spool, b)
            for i in np.flatnonzero(batches == b).tolist():
                d = int(docs[i])
                out[i] = batch[d - firsts[b]].passages[int(passages[i] - sketch.starts[d])].text
        return out

    return texts


def write_run(
    staging: Path,
    sketch: Sketch,
    batches: int,
    rejects: list[Reject],
    manifest: dict,
    extra: dict | None = None,
    files: dict[str, str] | None = None,
    replace: bool = False,
) -> dict:
    """Read the spool back batch by batch, put the sketch's verdicts on the documents and
    write them; documents left with no kept line become `no_content` rejects. Commits the
    corpus, with `extra` tables and `files` (the index's), and returns the manifest. With
    `replace`, the run replaces the corpus (`writers.CorpusWriter.commit`)."""
    spool = staging / SPOOL
    writer = writers.CorpusWriter(staging)
    rejects = list(rejects)
    first = 0
    for number in range(batches):
        docs = read_spool(spool, number)
        placed = sketch.apply(docs, first)
        first += len(docs)
        rejects += clean.no_content_rejects(placed)
        writer.add(placed)
    if first != sketch.n_docs:
        raise RuntimeError(f"the spool holds {first} documents, the sketch {sketch.n_docs}")
    shutil.rmtree(spool, ignore_errors=True)  # not part of the corpus: no need to sync it
    return writer.commit(rejects, manifest, extra, files, replace)


# -- the spool ------------------------------------------------------------------------------


def spool_file(spool: str | Path, number: int) -> Path:
    return Path(spool) / f"batch-{number:07d}.pickle"


def write_spool(spool: str | Path, number: int, docs: list[Document]) -> None:
    """Store a batch's cleaned documents (a private, short-lived file of this run: pickle
    is the fastest faithful round trip for them). Written whole or not at all."""
    _write_atomically(
        spool_file(spool, number), lambda fh: pickle.dump(docs, fh, protocol=pickle.HIGHEST_PROTOCOL)
    )


def values_file(spool: str | Path, number: int) -> Path:
    return Path(spool) / f"batch-{number:07d}.values.npy"


def spooled_values(spool: str | Path, batches: int) -> Iterator[np.ndarray]:
    """The signatures of each batch in turn, as `prepare_batch` spooled them."""
    for number in range(batches):
        yield np.load(values_file(spool, number))


def _write_atomically(path: Path, dump: Callable[[BinaryIO], object]) -> None:
    """Write a spool file whole or not at all. The spool's folder is made inside the run's
    staging folder, never the staging folder itself: a worker outliving a stopped run must
    not bring back the folder the run removed."""
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        dump(fh)
    os.replace(tmp, path)


def read_spool(spool: str | Path, number: int) -> list[Document]:
    with open(spool_file(spool, number), "rb") as fh:
        return pickle.load(fh)
