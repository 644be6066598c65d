"""The per-batch half of a run, and the spool that keeps cleaned documents until the write.

A run streams its inputs: each batch of files is read, extracted, cleaned and sketched on
its own (in any process: `prepare_batch` needs only its arguments), a part of at most
`run.batch_records` documents or `run.batch_bytes` bytes at a time; each part's documents,
`Sketch` and signatures go to the spool on disk, and only the parts' names and the batch's
counts come back (`BatchResult`). The whole-corpus stages (repeated ids, learned
boilerplate, dedup) then work on the joined sketches, and the writer
reads the spool back one part at a time, applying their verdicts. Memory holds one part of
texts per worker plus the corpus's sketch, never the corpus.
"""

from __future__ import annotations

import os
import pickle
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, NamedTuple

import numpy as np
import pyarrow as pa

from cleaner import spool as spooled  # the module; `spool` names the folder
from cleaner.clean import extract, language, lines
from cleaner.config import Config, DedupConfig
from cleaner.corpus import writers
from cleaner.dedup.signatures import Signer
from cleaner.dedup.sketch import Sketch
from cleaner.dedup.store import SignatureStore
from cleaner.document import Document, Reject
from cleaner.io import readers, records
from cleaner.memory import give_back

SPOOL = "spool"  # the spool's folder in a run's staging folder


class Part(NamedTuple):
    """A part of a batch as spooled: its name in the spool and how many documents it holds."""

    name: str
    docs: int


@dataclass
class BatchResult:
    """What a batch sends back: its parts' names (their documents, sketches and signatures
    wait in the spool), its rejects and what each step counted."""

    index: int
    parts: list[Part]
    read_rejects: list[Reject]
    extract_rejects: list[Reject]
    inputs: list[records.Seen] = field(default_factory=list)  # to recognise them next time
    counts: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)  # boilerplate lines per written rule
    seconds: dict[str, float] = field(default_factory=dict)  # time per step, in this batch

    @property
    def n_docs(self) -> int:
        return sum(part.docs for part in self.parts)


class _Parts(list):
    """The documents of a batch as they are read, handed on as a part (to `process`) every
    `records` documents or `size` bytes of pages and texts, and let go: the readers append
    to it one document at a time, so a file of a million records is never held whole."""

    def __init__(self, process: Callable[[list[Document]], None], records: int, size: int) -> None:
        super().__init__()
        self.process, self.records, self.size = process, records, size
        self.bytes = 0

    def append(self, doc: Document) -> None:
        super().append(doc)
        self.bytes += len(doc.html or doc.body or "")
        if len(self) >= self.records or self.bytes >= self.size:
            self.flush()

    def flush(self) -> None:
        if self:
            docs = list(self)
            self.clear()
            self.bytes = 0
            self.process(docs)


def prepare_batch(
    number: int, files: list[tuple[int, records.InputFile]], config: Config, spool: str
) -> BatchResult:
    """Read, extract, clean and sketch one batch of (input rank, file) pairs, a part at a
    time (`run.batch_records`, `run.batch_bytes`); spool each part's documents and
    signatures as part `<number>-<part>` of the spool."""
    seconds: Counter = Counter()
    parts: list[Part] = []
    extract_rejects: list[Reject] = []
    rules: Counter = Counter()
    counts: Counter = Counter()
    signer = _signer(config.dedup)

    def process(docs: list[Document]) -> None:
        clock = time.perf_counter()

        def step(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            seconds[name] += now - clock
            clock = now

        counts["html_pages"] += sum(1 for d in docs if d.html is not None)
        docs, rejected = extract.extract_batch(docs, config.extract)
        extract_rejects.extend(rejected)
        step("extract")
        for doc, code in zip(docs, language.identify_all([d.body or "" for d in docs]), strict=True):
            doc.language = code
        step("language")
        docs = lines.clean_batch(docs, config.clean)
        step("clean")
        sketch = Sketch.of(docs, config.dedup, signer)
        step("sketch")
        if config.rewrite.enabled:
            sketch.embed_passages(docs, config.rewrite)
            step("embed")
        name = f"{number:07d}-{len(parts):04d}"
        write_spool(spool, name, docs)
        # The sketch goes to the spool too, its signatures apart, where they stay: the run
        # reads them a band or a block of columns at a time (`SignatureStore`). Sent back in
        # the result, a batch's sketches grew with its file (a million one-line records: 280
        # MB in the worker, a 126 MB result); joined, they were 512 MB of the run's process.
        values = sketch.values
        _write_atomically(values_file(spool, name), lambda fh: SignatureStore.save(fh, values))
        sketch.values = sketch.values[:0].copy()
        _write_atomically(
            sketch_file(spool, name), lambda fh: pickle.dump(sketch, fh, protocol=pickle.HIGHEST_PROTOCOL)
        )
        step("spool")
        parts.append(Part(name, len(docs)))
        counts["lines"] += sketch.n_passages
        rules.update(p.rule for d in docs for p in d.passages if p.rule)

    started = time.perf_counter()
    skipped: Counter = Counter()  # records passed over by design: warc_skipped_<kind>
    sink = _Parts(process, config.run.batch_records, config.run.batch_bytes)
    _, read_rejects, inputs = readers.read_files(files, config.read, skipped, sink)
    sink.flush()
    working = sum(seconds.values())
    steps = {"read": time.perf_counter() - started - working, **seconds}
    read = sum(part.docs for part in parts) + len(extract_rejects)
    counts.update(
        files=len(files),
        records=read + len(read_rejects),
        read_rejects=len(read_rejects),
        extract_rejects=len(extract_rejects),
    )
    counts.update(skipped)
    return BatchResult(
        index=number,
        parts=parts,
        read_rejects=read_rejects,
        extract_rejects=extract_rejects,
        inputs=inputs,
        counts=counts,
        rules=rules,
        seconds={
            k: steps.get(k, 0.0) for k in ("read", "extract", "language", "clean", "sketch", "embed", "spool")
        },
    )


def join(results: Sequence[BatchResult], spool: str | Path) -> tuple[Sketch, list[Part]]:
    """The run's sketch, its batches' parts' in order, read from the spool, its signatures
    left there (a `SignatureStore` of the parts' files); and the parts, to read their
    documents back."""
    parts = [part for result in results for part in result.parts]
    sketches = [read_sketch(spool, part.name) for part in parts]
    if not sketches:
        return Sketch.concat([]), parts
    width = sketches[0].values.shape[1]
    sketch = Sketch.concat(sketches, SignatureStore.files((values_file(spool, p.name) for p in parts), width))
    del sketches
    give_back()  # the parts' sketches, unpickled one by one: ~120 MB at a million records
    return sketch, parts


@lru_cache(maxsize=4)
def _signer(config: DedupConfig) -> Signer:
    """One signer per configuration and process: its word-hash cache serves every batch."""
    return Signer(config)


def spool_texts(
    spool: str | Path, sketch: Sketch, parts: Sequence[Part]
) -> Callable[[np.ndarray], list[str]]:
    """Reads the texts of signature rows of the sketch back from the spool, for dedup's
    exact check; `parts` are the spooled parts the sketch's documents are in, in order. Only
    the passages asked for are taken from each part's text column (memory-mapped)."""

    def texts(rows: np.ndarray) -> list[str]:
        passages = sketch.signed_passages(rows)
        docs = np.searchsorted(sketch.starts, passages, side="right") - 1
        firsts = np.concatenate(([0], np.cumsum([part.docs for part in parts])))
        where = np.searchsorted(firsts, docs, side="right") - 1
        out: list[str] = [""] * len(rows)
        for b in np.unique(where).tolist():
            chosen = np.flatnonzero(where == b)
            table = read_part(spool, parts[b])
            found = spooled.texts(table, passages[chosen] - sketch.starts[firsts[b]])
            for i, text in zip(chosen.tolist(), found, strict=True):
                out[i] = text
        return out

    return texts


def write_run(
    staging: Path,
    sketch: Sketch,
    parts: Sequence[Part],
    rejects: list[Reject],
    manifest: dict,
    extra: dict | None = None,
    files: dict[str, str] | None = None,
    replace: bool = False,
) -> dict:
    """Read the spool back part by part, put the sketch's verdicts on its columns and write
    them (`spooled.place`); documents left with no kept line become `no_content` rejects.
    Commits the corpus, with `extra` tables and `files` (the index's), and returns the
    manifest. With `replace`, the run replaces the corpus (`writers.CorpusWriter.commit`)."""
    folder = staging / SPOOL
    writer = writers.CorpusWriter(staging)
    rejects = list(rejects)
    first = 0
    verdicts = sketch.kept_documents()
    for part in parts:
        placed = spooled.place(read_part(folder, part), part.name, sketch, first, verdicts)
        first += part.docs
        rejects += placed.rejects
        writer.add_tables(placed.documents, placed.passages, placed.duplicates)
        writer.tally.add_counts(placed.statuses, placed.rules, placed.kinds, placed.kept)
    if first != sketch.n_docs:
        raise RuntimeError(f"the spool holds {first} documents, the sketch {sketch.n_docs}")
    # the spool is not part of the corpus: removed before the sync, once the index's tables
    # (which read its signatures) are written
    return writer.commit(rejects, manifest, extra, files, replace, discard=[folder])


# -- the spool ------------------------------------------------------------------------------


def spool_file(spool: str | Path, name: str) -> Path:
    return Path(spool) / f"part-{name}.docs.arrow"


def write_spool(spool: str | Path, name: str, docs: list[Document]) -> None:
    """Store a part's cleaned documents as Arrow columns (`cleaner.spool`), which the exact
    check and the writer read by column. Written whole or not at all."""
    _write_atomically(spool_file(spool, name), lambda fh: spooled.write(fh, docs))


def read_part(folder: str | Path, part: Part) -> pa.Table:
    """A spooled part's documents as columns (memory-mapped); `spooled.SpoolError` if it is
    missing, damaged or not the part the run made."""
    return spooled.read(spool_file(folder, part.name), part.name, part.docs)


def values_file(spool: str | Path, name: str) -> Path:
    return Path(spool) / f"part-{name}.values.npy"


def sketch_file(spool: str | Path, name: str) -> Path:
    return Path(spool) / f"part-{name}.sketch.pickle"


def read_sketch(spool: str | Path, name: str) -> Sketch:
    """A part's sketch, without its signatures (`values_file`)."""
    with open(sketch_file(spool, name), "rb") as fh:
        return pickle.load(fh)


def _write_atomically(path: Path, dump: Callable[[BinaryIO], object]) -> None:
    """Write a spool file whole or not at all. The spool's folder is made inside the run's
    staging folder, never the staging folder itself: a worker outliving a stopped run must
    not bring back the folder the run removed."""
    path.parent.mkdir(exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        dump(fh)
    os.replace(tmp, path)


def read_spool(folder: str | Path, name: str) -> list[Document]:
    """A spooled part's documents as `Document`s (for tests and tools: the run reads columns)."""
    return spooled.documents(spooled.read(spool_file(folder, name), name))
