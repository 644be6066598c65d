"""The dedup index a corpus keeps, so that each run deduplicates against every earlier one.

    OUT/index/params.json                 what signatures and band keys depend on
    OUT/index/documents/run=<id>/         kept documents: number, doc_id
    OUT/index/passages/run=<id>/          comparable passages of kept documents
    OUT/index/rewrite.json                what the rewrite stage's codes and band keys depend on
    OUT/index/rewrites/run=<id>/          embedded passages of kept documents: number,
                                          position, int8 codes, SimHash band keys
    OUT/index/inputs/run=<id>/            input files read: real path, key, size, mtime,
                                          digest, lines and tail of a JSONL file (or, for a
                                          file rejected unread, -1 and "rejected:<reason>");
                                          also kept as OUT/runs/<id>.inputs.parquet

Like the corpus, the index only grows: a run adds one partition to each of its datasets,
committed with the run's own partitions. A run reads only compact columns of it: per passage
its document number, position, fingerprint and counts, then one band-key column at a time to
find the passages that share a band with the run's. So a run's cost and memory follow its
batch, plus a few bytes per indexed passage (and the texts of the row groups of `passages/`
that hold the few it signs again).

The index stores what the lookup needs and no more: per first occurrence a 32-bit key per
band, no signature (about 180 bytes a passage where a signature and 64-bit keys took 830).
The signatures of the few indexed passages that share a band key with the run are computed
again from their text in the corpus's `passages/` (reading only the row groups that hold
them), with the corpus's settings: the very values the run that indexed them computed. A
32-bit key is the 64-bit band key folded, so every passage sharing a band with the run is
found; a fold collision only adds a passage whose signature the visit's own LSH then leaves
out.

Everything here but the inputs can be rebuilt from the corpus itself (`rebuild_run`,
`rebuild_rewrites_run`): the band keys from the passages' text with the corpus's settings,
the numbers from the order the runs wrote their documents in, the rewrite stage's codes by
embedding the kept passages of `passages/` again (`documents/` holds each document's
language): the very bytes a run stored. The inputs are kept twice for that reason. An index
in the layout of an earlier cleaner (a stored signature and 64-bit keys per passage) is not
read: `cleaner check --repair` rebuilds it in this one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, replace
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cleaner.config import DedupConfig, RewriteConfig, without_retired
from cleaner.corpus.writers import RUNS, write_batches, write_table
from cleaner.dedup import embed, rewrites
from cleaner.dedup.lsh import band_keys
from cleaner.dedup.signatures import Signer
from cleaner.dedup.sketch import BOILERPLATE, KEPT, Prior, Sketch
from cleaner.dedup.store import SignatureStore
from cleaner.document import Document, Passage, Reject, Status
from cleaner.errors import ConfigError, OutputError
from cleaner.io.readers import kind_of
from cleaner.io.records import InputFile, Resume, Seen
from cleaner.memory import give_back
from cleaner.text import fingerprints

INDEX = "index"
_KEY_ROWS = 1 << 20  # band keys read at a time: 4 MB of one column
_TEXT_ROWS = 4096  # rows of passages/ read at a time for their texts
PARAMS_FILE = "params.json"
REWRITE_FILE = "rewrite.json"
# The settings the rewrite stage's stored codes and band keys depend on (with the model):
# `min_aligned` decides which documents have any (`embed.passage_codes`).
REWRITE_PARAMS = ("min_words", "min_aligned", "seed", "bands", "rows")
_REJECTED = "rejected:"  # in place of the digest of an input file rejected unread
# The settings a signature, a band key or the choice of indexed passages depends on.
PARAMS = (
    "shingle",
    "shingle_size",
    "num_perm",
    "seed",
    "shingle_hash",
    "bands",
    "rows",
    "min_words",
    "near_min_words",
)


def params_of(config: DedupConfig) -> dict:
    return {name: asdict(config)[name] for name in PARAMS}


def band_columns(config: DedupConfig) -> list[str]:
    return [f"b{band:03d}" for band in range(config.bands)]


def schemas(config: DedupConfig) -> dict[str, pa.Schema]:
    passages = [
        ("doc", pa.int64()),
        ("position", pa.int32()),
        ("fingerprint", pa.uint64()),
        ("n_words", pa.int32()),
        ("chars", pa.int32()),
        ("first", pa.bool_()),  # a first occurrence: later copies point at it
    ]
    # Per band, `index_keys`: null but for first occurrences long enough to be signed. Random
    # hashes do not compress: stored as they are, they read in a third of zstd's time.
    raw = {"compression": "none"}  # `writers.write_batches`
    passages += [pa.field(name, pa.uint32(), metadata=raw) for name in band_columns(config)]
    return {
        "documents": pa.schema([("doc", pa.int64()), ("doc_id", pa.string())]),
        "passages": pa.schema(passages),
        "inputs": INPUTS_SCHEMA,
    }


def rewrite_params_of(config: RewriteConfig) -> dict:
    return {"model": embed.MODEL, **{name: asdict(config)[name] for name in REWRITE_PARAMS}}


def rewrite_config(params: dict, languages: Sequence[str] = RewriteConfig.languages) -> RewriteConfig:
    """The rewrite stage's configuration of a corpus's settings (`rewrite_params_of`), with
    `languages` (which the stored codes do not depend on: a run may change them); a
    `ConfigError` for settings no cleaner writes."""
    return RewriteConfig(enabled=True, languages=tuple(languages), **{k: params[k] for k in REWRITE_PARAMS})


def read_rewrite_params(out: Path) -> dict:
    """The corpus's `index/rewrite.json`, or an `OutputError` naming the damage."""
    path = out / INDEX / REWRITE_FILE
    params = _settings_json(path, out)
    wrong = rewrite_params_error(params)
    if wrong:
        raise OutputError(f"{path}: {wrong}: run `cleaner check {out} --repair`")
    return params


def rewrite_params_error(params: object) -> str | None:
    """What is wrong with settings read from an `index/rewrite.json`, or None."""
    if not isinstance(params, dict) or not isinstance(params.get("model"), str):
        return "it holds no rewrite settings"
    missing = [name for name in REWRITE_PARAMS if name not in params]
    unknown = sorted(set(params) - {"model", *REWRITE_PARAMS})
    if missing or unknown:
        return "it " + " and ".join(
            said
            for said in (
                missing and f"lacks the setting {', '.join(missing)} (older corpora did not record it)",
                unknown and f"holds settings no cleaner writes ({', '.join(unknown)})",
            )
            if said
        )
    try:
        rewrite_config(params)
    except (ConfigError, TypeError) as exc:
        return f"it holds settings no cleaner writes ({exc})"
    return None


def rewrites_schema(config: RewriteConfig) -> pa.Schema:
    """`index/rewrites`: per embedded passage of a kept document, its codes (embed.DIM
    bytes) and its band keys (4 bytes a band, little-endian uint32: `rows` is at most 32):
    12 + 256 + 4 * bands bytes a passage, 524 with the defaults."""
    return pa.schema(
        [
            ("doc", pa.int64()),
            ("position", pa.int32()),
            ("code", pa.binary(embed.DIM)),
            ("keys", pa.binary(4 * config.bands)),
        ]
    )


def index_keys(values: np.ndarray | SignatureStore, config: DedupConfig, band: int) -> np.ndarray:
    """A band's keys as the index stores them: the 64-bit `band_keys` folded to 32 bits. Equal
    64-bit keys fold equal, so the index finds every passage sharing a band with a run's; a
    fold collision (one in four billion a pair) only adds a passage to compare."""
    keys = band_keys(values, config, band)[:, 0]
    return (keys ^ (keys >> np.uint64(32))).astype(np.uint32)


# The columns only an earlier cleaner's index/passages had (a signature and distinct
# shingles per first occurrence, with 64-bit band keys): about 830 bytes a passage.
EARLIER_COLUMNS = ("size", "signature")


def earlier_layout(names: Sequence[str]) -> bool:
    """Whether an index/passages file with these columns is in an earlier cleaner's layout."""
    return any(name in names for name in EARLIER_COLUMNS)


def earlier_layout_error(out: str | Path) -> OutputError:
    return OutputError(
        f"the index of {out} is in the layout of an earlier cleaner (a signature stored per passage), "
        f"which this one does not read: rebuild it from the corpus with `cleaner check {out} --repair` "
        f"(no input is read again), or the whole corpus with `cleaner run INPUTS --out {out} --reprocess`"
    )


INPUTS_SCHEMA = pa.schema(
    [
        ("path", pa.string()),  # its real path: what a file is known by
        ("key", pa.string()),  # its path under its input folder, as in its documents' ids
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("digest", pa.string()),
        ("lines", pa.int64()),
        ("tail", pa.int64()),
    ]
)


class Known(NamedTuple):
    """An input file as an earlier run read it (`readers.Seen`)."""

    size: int
    mtime_ns: int
    digest: str
    lines: int
    tail: int


def _known(row: dict) -> Known:
    return Known(*(row[name] for name in Known._fields))


class Index:
    """One corpus's index, opened for a run with that run's dedup configuration. A `fresh`
    one ignores what the corpus holds: the run replaces it (`cleaner run --reprocess`)."""

    def __init__(
        self, out: str | Path, config: DedupConfig, fresh: bool = False, rewrite: RewriteConfig | None = None
    ) -> None:
        self.root = Path(out) / INDEX
        self.config = config
        self.rewrite = rewrite or RewriteConfig()
        stored_rewrite = self.root / REWRITE_FILE
        if rewrite is not None and rewrite.enabled and stored_rewrite.exists() and not fresh:
            try:
                before = json.loads(stored_rewrite.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                before = None
            now = rewrite_params_of(rewrite)
            if before != now:
                changed = (
                    ", ".join(f"{k} {before.get(k)!r} -> {v!r}" for k, v in now.items() if before.get(k) != v)
                    if isinstance(before, dict)
                    else f"{stored_rewrite} cannot be read"
                )
                raise OutputError(
                    f"{out} keeps passage codes of other rewrite settings ({changed}): use the corpus's "
                    "settings, `cleaner run --reprocess` to rebuild it with these, or a new --out"
                )
        self.schemas = schemas(config)
        self.fresh = fresh
        stored = self.root / PARAMS_FILE
        if stored.exists() and not fresh:
            params = read_params(Path(out))
            if params != params_of(config):
                changed = ", ".join(
                    f"{k} {params.get(k)!r} -> {v!r}"
                    for k, v in params_of(config).items()
                    if params.get(k) != v
                )
                raise OutputError(
                    f"{out} was deduplicated with other MinHash settings ({changed}); its index "
                    "cannot be compared with this run's: use the corpus's settings, rebuild the corpus with the new ones "
                    "(`cleaner run INPUTS --out ... --reprocess`), or write to a new --out"
                )

    def _dataset(self, name: str) -> ds.Dataset | None:
        return None if self.fresh else _runs_dataset(self.root / name, self.schemas[name])

    def _files(self, name: str) -> list[Path]:
        """The files of an index dataset, in the order of its rows. Read with `pq` directly: a
        dataset scan of a million doc ids held 60 MB where reading the files held 20."""
        return [] if self.fresh else sorted((self.root / name).glob("run=*/*.parquet"))

    def next_doc(self) -> int:
        """The number the run's first document takes: one past the largest the index holds.
        Not the count of its documents: once a run is deleted whole (a retention script), the
        count falls below the numbers of the runs after it, and a new run's documents took
        theirs (a later copy then pointed at the wrong one)."""
        largest = -1
        for path in self._files("documents"):
            metadata = pq.read_metadata(path)
            column = metadata.schema.names.index("doc")
            for group in range(metadata.num_row_groups):
                stats = metadata.row_group(group).column(column).statistics
                if stats is not None and stats.has_min_max:
                    largest = max(largest, int(stats.max))
                elif metadata.row_group(group).num_rows:
                    table = pq.ParquetFile(path).read_row_group(group, columns=["doc"])
                    largest = max(largest, int(pc.max(table["doc"]).as_py()))
        return largest + 1

    @cached_property
    def _inputs(self) -> list[dict]:
        data = self._dataset("inputs")
        return data.to_table().to_pylist() if data is not None else []

    @cached_property
    def known_inputs(self) -> dict[str, Known]:
        """Real path -> the latest read of every input file (read once: the index changes
        only when the run commits)."""
        return {r["path"]: _known(r) for r in self._inputs}

    @cached_property
    def _by_key(self) -> dict[str, Known]:
        """Key -> the latest read of a file of that key, wherever it was: a file moved with
        its folder, known by its path under it."""
        return {r["key"]: _known(r) for r in self._inputs if r["size"] >= 0}

    @cached_property
    def _copies(self) -> set[tuple[str, str]]:
        """(key, digest) of every file read: a file read again from a moved folder."""
        return {(r["key"], r["digest"]) for r in self._inputs if r["size"] >= 0}

    def unread(self, files: Sequence[InputFile]) -> list[tuple[int, InputFile]]:
        """The (input rank, file) pairs to read: all but the files an earlier run read and
        nobody touched since (same real path, size and modification time). A plain JSONL
        file that has grown since is given where the earlier read ended (`readers.Resume`):
        if it only grew, only its new lines are read. So is one moved with its folder (the
        same key) and grown: read whole, its old lines were `duplicate_id` rejects."""
        known = self.known_inputs
        pairs = []
        for rank, f in enumerate(files):
            before = known.get(f.identity)
            try:
                stat = f.path.stat()
            except OSError:
                pairs.append((rank, f))  # reading it will say what is wrong
                continue
            if before is not None and before[:2] == (stat.st_size, stat.st_mtime_ns):
                continue
            if before is None:  # moved with its folder, and grown since? `_resume` checks its bytes
                before = self._by_key.get(f.key)
            grown = before is not None and 0 < before.size < stat.st_size and before.lines > 0
            if grown and kind_of(f.path) == ("jsonl", None):
                f = replace(f, resume=Resume(before.size, before.digest, before.lines, before.tail))
            pairs.append((rank, f))
        return pairs

    def unreported(self, rejects: Sequence[Reject]) -> list[Reject]:
        """The rejects to record: all but whole input files an earlier run already rejected
        for the same reason (a .pdf in the inbox is reported once, not every day). Such a
        file is still looked at again every run (see `input_rows`)."""
        known = self.known_inputs
        return [
            r
            for r in rejects
            if r.key is None or r.key not in known or known[r.key].digest != _REJECTED + r.reason
        ]

    def skip_unchanged(self, sketch: Sketch, inputs: Sequence[Seen]) -> int:
        """Leave out of the run the documents of inputs read again whose bytes an earlier
        run read already (touched, not changed, or moved with their folder); returns how
        many such inputs there were."""
        known, copies = self.known_inputs, self._copies
        same = [
            s.rank
            for s in inputs
            if (s.path in known and known[s.path].digest == s.digest) or (s.key, s.digest) in copies
        ]
        sketch.excluded[np.isin(sketch.orders[:, 0], same)] = True
        return len(same)

    def known_ids(self, doc_ids: Sequence[str]) -> np.ndarray:
        """Which of these ids are documents of the corpus already: kept (the index's) or
        dropped as duplicates (`duplicates/`). A record of an earlier duplicate's id went in
        as a new document, and the corpus then held its id in two datasets."""
        # The corpus's ids are looked up in the run's, a batch at a time: a set of the corpus's
        # million ids took 135 MB.
        ids = pa.array(doc_ids, pa.string())
        files = [] if self.fresh else sorted(self.root.parent.glob("duplicates/run=*/*.parquet"))
        known = [
            batch.column(0).filter(pc.is_in(batch.column(0), value_set=ids))
            for path in [*self._files("documents"), *files]
            for batch in pq.ParquetFile(path, pre_buffer=False).iter_batches(
                columns=["doc_id"], use_threads=False
            )
        ]
        if not known or not doc_ids:
            return np.zeros(len(doc_ids), dtype=bool)
        return pc.is_in(ids, value_set=pa.concat_arrays(known)).to_numpy(zero_copy_only=False)

    def prior(self, sketch: Sketch) -> Prior:
        """The indexed documents the sketch's passages may repeat (`Prior`), with the
        signatures of their first occurrences that share a band key with the sketch's,
        computed again from their texts in `passages/`."""
        files = self._files("passages")
        if not files:
            return Prior()
        config = self.config
        comparable = (sketch.status != BOILERPLATE) & (sketch.n_words >= config.min_words)
        signed = comparable & (sketch.rows >= 0) & (sketch.n_words >= config.near_min_words)
        columns = ["doc", "position", "fingerprint", "n_words", "chars", "first"]
        facts = pa.concat_tables(
            [pq.ParquetFile(path, pre_buffer=False).read(columns, use_threads=False) for path in files]
        )
        first = facts["first"].to_numpy(zero_copy_only=False)
        # pc.is_in hashes the few values looked for; np.isin sorted the million looked in.
        new = pa.array(sketch.fingerprints[comparable])
        hit = first & pc.is_in(facts["fingerprint"], value_set=new).to_numpy(zero_copy_only=False)
        give_back()
        shared = first & self._sharing(files, sketch.values, sketch.rows[signed])
        give_back()
        docs = facts["doc"].to_numpy()
        take = pc.is_in(facts["doc"], value_set=pa.array(np.unique(docs[hit | shared])))
        take = take.to_numpy(zero_copy_only=False)
        numbers, doc_index = np.unique(docs[take], return_inverse=True)
        ids, runs = self._documents(numbers)
        prior = Prior(
            doc_ids=ids,
            doc=doc_index.astype(np.int64),
            position=facts["position"].to_numpy()[take],
            fingerprints=facts["fingerprint"].to_numpy()[take],
            n_words=facts["n_words"].to_numpy()[take],
            chars=facts["chars"].to_numpy()[take],
            first=first[take],
        )
        del facts
        # The first occurrences sharing a band are signed again from their texts. One whose
        # text the corpus no longer holds as it was indexed (a damaged corpus: `cleaner
        # check` says so) gets no signature; it can then only be repeated exactly.
        wanted = np.flatnonzero(shared[take])
        where = zip(doc_index[wanted].tolist(), prior.position[wanted].tolist(), strict=True)
        keys = [(runs[d], ids[d], position) for d, position in where]
        texts = _passage_texts(self.root.parent, keys)
        have = [i for i, t in enumerate(texts) if t is not None]
        same = (
            np.array(fingerprints([texts[i] for i in have]), dtype=np.uint64)
            == prior.fingerprints[wanted[have]]
        )
        good = [i for i, ok in zip(have, same.tolist(), strict=True) if ok]
        prior.texts = [texts[i] for i in good]
        signatures = Signer(config)(prior.texts)
        prior.rows = np.full(len(prior.doc), -1, dtype=np.int32)
        prior.rows[wanted[good]] = np.arange(len(good), dtype=np.int32)
        prior.values, prior.sizes = signatures.values, signatures.sizes
        return prior

    def rewrite_prior(self, sketch: Sketch) -> rewrites.Prior:
        """The indexed documents the sketch's documents may rewrite: every embedded passage
        of each indexed document that `rewrites.likely_sources` finds for the run's embedded
        passages on the band keys alone. The index is read a row group at a time: its keys
        first, then the codes of just the documents found."""
        folder = self.root / "rewrites"
        files = [] if self.fresh else sorted(folder.glob("run=*/*.parquet"))
        own = np.flatnonzero((sketch.code_rows >= 0) & (sketch.status == KEPT))
        if not files or not len(own):
            return rewrites.Prior()
        config = self.rewrite
        run_keys = rewrites.band_keys(sketch.codes[sketch.code_rows[own]], config).astype(np.uint32)
        run_doc = sketch.doc_of[own]
        run_order = rewrites.band_order(run_keys)
        wanted: set[int] = set()
        for path in files:
            parquet = pq.ParquetFile(path)
            for group in range(parquet.num_row_groups):
                table = parquet.read_row_group(group, columns=["doc", "keys"], use_threads=False)
                keys = _fixed(table["keys"], "<u4", config.bands)
                # pairs counted within a row group: a run writes a document's rows together
                found = rewrites.likely_sources(
                    keys, table["doc"].to_numpy(), run_keys, run_doc, config, run_order
                )
                wanted.update(found.tolist())
        if not wanted:
            return rewrites.Prior()
        numbers = np.array(sorted(wanted), dtype=np.int64)
        docs, positions, codes = [], [], []
        for path in files:
            parquet = pq.ParquetFile(path)
            for group in range(parquet.num_row_groups):
                table = parquet.read_row_group(group, columns=["doc", "position", "code"], use_threads=False)
                take = np.isin(table["doc"].to_numpy(), numbers)
                if take.any():
                    docs.append(table["doc"].to_numpy()[take])
                    positions.append(table["position"].to_numpy()[take])
                    codes.append(_fixed(table["code"], "i1", embed.DIM)[take])
        doc = np.concatenate(docs)
        found, index_of = np.unique(doc, return_inverse=True)
        return rewrites.Prior(
            doc_ids=self._documents(found)[0],
            doc=index_of.astype(np.int64),
            position=np.concatenate(positions).astype(np.int32),
            codes=np.concatenate(codes),
        )

    def _sharing(
        self, files: Sequence[str], values: np.ndarray | SignatureStore, rows: np.ndarray
    ) -> np.ndarray:
        """Which indexed passages (rows over `files` in order) share a band key with one of
        the signatures `rows` of `values`. Read one band's column at a time, `_KEY_ROWS` rows
        at a time: the columns of all bands decoded at once took ~10 times their size in
        buffers."""
        config = self.config
        keys = [np.unique(index_keys(values, config, band)[rows]) for band in range(config.bands)]
        found = []
        for path in files:
            parquet = pq.ParquetFile(path, pre_buffer=False)
            if earlier_layout(parquet.schema_arrow.names):
                raise earlier_layout_error(self.root.parent)
            part = np.zeros(parquet.metadata.num_rows, dtype=bool)
            for new, name in zip(keys, band_columns(config), strict=True):
                if not len(new):
                    continue
                member = _Members(new)
                start = 0
                for batch in parquet.iter_batches(batch_size=_KEY_ROWS, columns=[name], use_threads=False):
                    column = batch.column(0)
                    rows = member.of(pc.fill_null(column, 0).to_numpy())
                    if column.null_count:
                        rows = rows[column.is_valid().to_numpy(zero_copy_only=False)[rows]]
                    part[start + rows] = True
                    start += len(column)
            found.append(part)
        return np.concatenate(found) if found else np.zeros(0, dtype=bool)

    def _documents(self, numbers: np.ndarray) -> tuple[list[str], list[str]]:
        """The doc_ids of these document numbers (ascending), and the run that wrote each."""
        ids: dict[int, str] = {}
        run_of: dict[int, str] = {}
        wanted = pa.array(numbers, pa.int64())
        for path in self._files("documents") if len(numbers) else []:
            run = path.parent.name.removeprefix("run=")
            for batch in pq.ParquetFile(path).iter_batches(columns=["doc", "doc_id"], use_threads=False):
                batch = batch.filter(pc.is_in(batch.column("doc"), value_set=wanted))
                for number, doc_id in zip(*(batch.column(i).to_pylist() for i in range(2)), strict=True):
                    ids[number], run_of[number] = doc_id, run
        listed = numbers.tolist()
        return [ids[n] for n in listed], [run_of[n] for n in listed]


class _Members:
    """Membership in a sorted set of 32-bit keys, for millions of keys at a time: a flag for
    each value of a key's top 16 to 24 bits, set for the set's keys, lets through few keys
    that are not in the set (one in 64 at most, up to 262,144 keys in the set), and only those
    are searched for (`np.searchsorted` on all of them took 2.8 s of a 5.4 s lookup in a
    million indexed passages)."""

    def __init__(self, keys: np.ndarray) -> None:
        self.keys = keys
        bits = min(24, max(16, int(len(keys)).bit_length() + 6))
        self.shift = np.uint32(32 - bits)
        self.table = np.zeros(1 << bits, dtype=bool)
        self.table[keys >> self.shift] = True

    def of(self, values: np.ndarray) -> np.ndarray:
        """The indices of `values` that are in the set."""
        maybe = np.flatnonzero(self.table[values >> self.shift])
        at = np.minimum(np.searchsorted(self.keys, values[maybe]), len(self.keys) - 1)
        return maybe[self.keys[at] == values[maybe]]


def _passage_texts(out: Path, keys: Sequence[tuple[str, str, int]]) -> list[str | None]:
    """The texts of these passages of the corpus in `out`, each (run, doc_id, position), from
    `passages/`; None for one it does not hold. Reads the doc_id column of the runs' files,
    then the texts of only the row groups that hold a wanted passage, a few thousand rows at
    a time (a row group's texts whole are tens of MB)."""
    by_run: dict[str, set[str]] = {}
    for run, doc_id, _ in keys:
        by_run.setdefault(run, set()).add(doc_id)
    asked = set(keys)
    found: dict[tuple[str, str, int], str] = {}
    for run, doc_ids in sorted(by_run.items()):
        wanted = pa.array(sorted(doc_ids), pa.string())
        for path in sorted((out / "passages" / f"run={run}").glob("*.parquet")):
            parquet = pq.ParquetFile(path, pre_buffer=False)
            for group in range(parquet.num_row_groups):
                ids = parquet.read_row_group(group, ["doc_id"], use_threads=False)[0]
                if not pc.any(pc.is_in(ids, value_set=wanted)).as_py():
                    continue
                columns = ["doc_id", "position", "text"]
                for batch in parquet.iter_batches(_TEXT_ROWS, [group], columns, use_threads=False):
                    batch = batch.filter(pc.is_in(batch.column("doc_id"), value_set=wanted))
                    for doc_id, position, text in zip(
                        *(batch.column(i).to_pylist() for i in range(3)), strict=True
                    ):
                        if (run, doc_id, position) in asked:
                            found[(run, doc_id, position)] = text
                give_back()  # a row group's texts: tens of MB
    return [found.get(key) for key in keys]


def _runs_dataset(folder: Path, schema: pa.Schema) -> ds.Dataset | None:
    """The partitions of the runs committed under `folder`, rows in file order."""
    files = sorted(str(p) for p in folder.glob("run=*/*.parquet"))
    return ds.dataset(files, format="parquet", schema=schema) if files else None


def _fixed(column: pa.ChunkedArray, dtype: str, width: int) -> np.ndarray:
    """A fixed-size binary column as a (rows x width) array of `dtype`."""
    array = column.combine_chunks()
    data = np.frombuffer(array.buffers()[1], dtype=dtype)
    start = array.offset * width
    return data[start : start + len(array) * width].reshape(len(array), width)


def rewrite_rows(sketch: Sketch, kept_docs: np.ndarray, first_number: int, config: RewriteConfig) -> pa.Table:
    """The run's rows of `index/rewrites` (`rewrites_schema`): the embedded passages the
    corpus keeps, numbered as `index/documents`."""
    doc_of = sketch.doc_of
    k = np.flatnonzero((sketch.status == KEPT) & (sketch.code_rows >= 0) & kept_docs[doc_of])
    number = np.cumsum(kept_docs) - 1 + first_number
    return _rewrite_table(
        number[doc_of[k]], k - sketch.starts[doc_of[k]], sketch.codes[sketch.code_rows[k]], config
    )


def _rewrite_table(
    doc: np.ndarray, position: np.ndarray, codes: np.ndarray, config: RewriteConfig
) -> pa.Table:
    """Rows of `index/rewrites`: the passages' numbers, positions and codes, with their band keys."""
    keys = (
        rewrites.band_keys(codes, config).astype("<u4") if len(codes) else np.zeros((0, config.bands), "<u4")
    )
    schema = rewrites_schema(config)
    return pa.table(
        [
            pa.array(np.asarray(doc, dtype=np.int64)),
            pa.array(np.asarray(position, dtype=np.int32)),
            pa.FixedSizeBinaryArray.from_buffers(
                schema.field("code").type, len(codes), [None, pa.py_buffer(codes.tobytes())]
            ),
            pa.FixedSizeBinaryArray.from_buffers(
                schema.field("keys").type, len(codes), [None, pa.py_buffer(keys.tobytes())]
            ),
        ],
        schema=schema,
    )


def input_rows(inputs: Sequence[Seen], rejects: Sequence[Reject]) -> pa.Table:
    """The run's rows of `index/inputs`: the files it read, and the input files it rejected
    unread, with size -1, so that such a file is never taken for untouched and is looked at
    again next run (its permissions may be fixed without changing its modification time),
    and the reason in place of a digest."""
    rows = [(s.path, s.key, s.size, s.mtime_ns, s.digest, s.lines, s.tail) for s in inputs]
    rows += [(r.key, "", -1, -1, _REJECTED + r.reason, 0, 0) for r in rejects if r.key is not None]
    return pa.table(
        {name: [row[i] for row in rows] for i, name in enumerate(INPUTS_SCHEMA.names)}, schema=INPUTS_SCHEMA
    )


def read_params(out: Path) -> dict:
    """The corpus's `index/params.json`, or an `OutputError` naming the damage."""
    path = out / INDEX / PARAMS_FILE
    params = _settings_json(path, out)
    if not isinstance(params, dict):
        raise OutputError(f"{path} holds no settings: run `cleaner check {out} --repair`")
    try:
        return without_retired(params, str(path))
    except ConfigError as exc:
        raise OutputError(f"{exc}: this corpus was made by another program") from None


def _settings_json(path: Path, out: Path) -> object:
    """What a settings file of the index holds, or an `OutputError` saying it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not JSON"
        raise OutputError(f"{path} cannot be read ({reason}): run `cleaner check {out} --repair`") from None


class PassageRows:
    """The index rows of a run: the comparable passages of its kept documents (numbered
    from `first_number` in input order), band keys for first occurrences.

    Made a batch at a time as they are written (`writers.write_table`). Built whole as a
    table, they took ~730 bytes a row (when a signature was stored per first occurrence:
    183 MB for the 262,000 rows of a 570,000 passage run) from the flow's building them to
    the end of the commit, and ~190 MB more while being built; here they cost 33 bytes a
    row until written, plus one batch. The band keys are made from the sketch's own
    signatures, which they keep alive."""

    def __init__(self, sketch: Sketch, kept_docs: np.ndarray, first_number: int, config: DedupConfig) -> None:
        self.config = config
        self.schema = schemas(config)["passages"]
        doc_of = sketch.doc_of
        comparable = (sketch.status != BOILERPLATE) & (sketch.n_words >= config.min_words) & kept_docs[doc_of]
        k = np.flatnonzero(comparable)
        number = np.cumsum(kept_docs) - 1 + first_number
        self.doc = number[doc_of[k]].astype(np.int64)
        self.position = (k - sketch.starts[doc_of[k]]).astype(np.int32)
        self.fingerprints = sketch.fingerprints[k]
        self.n_words = sketch.n_words[k]
        self.chars = sketch.chars[k]
        self.first = sketch.status[k] == KEPT
        signed = self.first & (sketch.rows[k] >= 0) & (sketch.n_words[k] >= config.near_min_words)
        self.rows = np.where(signed, sketch.rows[k], -1).astype(np.int32)  # signature row, or -1
        self.values = SignatureStore.of(sketch.values)

    @property
    def num_rows(self) -> int:
        return len(self.doc)

    def to_batches(self, max_chunksize: int = 16_384) -> Iterator[pa.RecordBatch]:
        for start in range(0, self.num_rows, max_chunksize):
            yield self._batch(slice(start, start + max_chunksize))

    def to_table(self) -> pa.Table:
        return pa.Table.from_batches(list(self.to_batches()), schema=self.schema)

    def to_pylist(self) -> list[dict]:
        return self.to_table().to_pylist()

    def _batch(self, rows: slice) -> pa.RecordBatch:
        config = self.config
        row = self.rows[rows]
        signed = row >= 0
        values = self.values.take(row[signed])
        columns = [
            pa.array(self.doc[rows]),
            pa.array(self.position[rows]),
            pa.array(self.fingerprints[rows]),
            pa.array(self.n_words[rows]),
            pa.array(self.chars[rows]),
            pa.array(self.first[rows]),
        ]
        for band in range(config.bands):
            keys = np.zeros(len(row), dtype=np.uint32)
            if len(values):
                keys[signed] = index_keys(values, config, band)
            columns.append(pa.array(keys, mask=~signed))
        return pa.RecordBatch.from_arrays(columns, schema=self.schema)


def run_tables(
    sketch: Sketch,
    first_number: int,
    inputs: pa.Table,
    config: DedupConfig,
    run_id: str = "",
    rewrite: RewriteConfig | None = None,
) -> dict[str, pa.Table | PassageRows]:
    """A run's partition of each index dataset, keyed by its path under OUT: tables, and the
    passages' rows (`PassageRows`), made as `writers.write_table` writes them; and with a
    `run_id`, the inputs' second copy, `runs/<run id>.inputs.parquet`."""
    kept = sketch.kept_documents()
    ids = [doc_id for doc_id, k in zip(sketch.doc_ids, kept.tolist(), strict=True) if k]
    tables = {
        f"{INDEX}/documents": _numbered(ids, first_number),
        f"{INDEX}/passages": PassageRows(sketch, kept, first_number, config),
        f"{INDEX}/inputs": inputs,
    }
    if rewrite is not None and rewrite.enabled:
        tables[f"{INDEX}/rewrites"] = rewrite_rows(sketch, kept, first_number, rewrite)
    if run_id:
        tables[inputs_file(run_id)] = inputs
    return tables


def record(tables: dict, first_number: int) -> dict:
    """What a run's manifest records of its index partitions (`manifest["index"]`): the
    number of its first document and the rows of each, for `cleaner check`."""
    rows = {
        name.removeprefix(f"{INDEX}/"): t.num_rows for name, t in tables.items() if name.startswith(INDEX)
    }
    return {"first_doc": first_number, **rows}


def inputs_file(run_id: str) -> str:
    """The copy of a run's `index/inputs` rows kept with its manifest, by its path under OUT."""
    return f"{RUNS}/{run_id}.inputs.parquet"


def _numbered(doc_ids: list[str], first_number: int) -> pa.Table:
    numbers = np.arange(first_number, first_number + len(doc_ids), dtype=np.int64)
    return pa.table({"doc": numbers, "doc_id": doc_ids}, schema=schemas(DedupConfig())["documents"])


def rebuild_run(out: Path, run_id: str, first_number: int, config: DedupConfig, dest: Path) -> dict[str, int]:
    """Write run `run_id`'s partitions of `index/documents` and `index/passages` into `dest`
    (a folder laid out as OUT) from what the corpus holds: its kept documents in the order
    they were written, numbered from `first_number`, and their passages, sketched again with
    the corpus's settings `config`: the very rows the run wrote. Returns the rows written."""
    partition = f"run={run_id}"
    doc_ids = pq.read_table(out / "documents" / partition, columns=["doc_id"])["doc_id"].to_pylist()
    write_table(_numbered(doc_ids, first_number), dest / INDEX / "documents" / partition)
    written = 0

    def rows() -> Iterator[pa.RecordBatch]:
        nonlocal written
        number = first_number
        for docs in _documents_of(out / "passages" / partition, doc_ids):
            if [d.doc_id for d in docs] != doc_ids[number - first_number : number - first_number + len(docs)]:
                raise OutputError(
                    f"passages/{partition} does not hold the documents of documents/{partition}"
                )
            made = PassageRows(Sketch.of(docs, config), np.ones(len(docs), dtype=bool), number, config)
            yield from made.to_batches()
            written += made.num_rows
            number += len(docs)
        if number - first_number != len(doc_ids):
            raise OutputError(f"passages/{partition} lacks documents of documents/{partition}")

    write_batches(schemas(config)["passages"], rows(), dest / INDEX / "passages" / partition)
    return {"documents": len(doc_ids), "passages": written}


def rebuild_rewrites_run(
    out: Path, run_id: str, first_number: int, config: RewriteConfig, dest: Path, empty: bool = True
) -> int:
    """Write run `run_id`'s partition of `index/rewrites` into `dest` (a folder laid out as
    OUT) from what the corpus holds: the passages its kept documents (numbered from
    `first_number` in the order they were written, as `index/documents`) kept, of the
    documents in `config.languages`, embedded again with the corpus's settings `config`
    (`Sketch.embed_passages`): the codes are the exact int8 output of a deterministic model,
    so these are the very rows the run wrote. A chunk of documents' texts is held at a time.
    Returns the rows written; none are written, like a run's, when there are none and
    `empty` is false (the dataset has a partition already)."""
    partition = f"run={run_id}"
    documents = pq.read_table(out / "documents" / partition, columns=["doc_id", "language"])
    doc_ids = documents["doc_id"].to_pylist()
    languages = documents["language"].to_pylist()
    wanted = [not config.languages or language in config.languages for language in languages]
    schema = rewrites_schema(config)
    written = 0

    def rows() -> Iterator[pa.RecordBatch]:
        nonlocal written
        number = first_number
        for docs in _documents_of(out / "passages" / partition, doc_ids):
            at = number - first_number
            if [d.doc_id for d in docs] != doc_ids[at : at + len(docs)]:
                raise OutputError(
                    f"passages/{partition} does not hold the documents of documents/{partition}"
                )
            numbers, positions, texts = [], [], []
            for d, doc in enumerate(docs):
                if not wanted[at + d]:
                    continue
                for passage in doc.passages:
                    if passage.status == Status.KEPT:
                        numbers.append(number + d)
                        positions.append(passage.position)
                        texts.append(passage.text or "")
            has, codes = embed.passage_codes(texts, config.min_words, numbers, config.min_aligned)
            table = _rewrite_table(np.array(numbers)[has], np.array(positions)[has], codes[has], config)
            yield from table.to_batches()
            written += table.num_rows
            number += len(docs)
        if number - first_number != len(doc_ids):
            raise OutputError(f"passages/{partition} lacks documents of documents/{partition}")

    folder = dest / INDEX / "rewrites" / partition
    write_batches(schema, rows(), folder)
    if not written and not empty:
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    return written


def _documents_of(folder: Path, kept: list[str], chunk: int = 2000) -> Iterator[list[Document]]:
    """The passages of the `kept` documents of a partition of `passages/`, as documents,
    `chunk` at a time. A run writes passages document after document, in the order of its
    `documents/` rows, so one chunk of texts is held at a time."""
    wanted = set(kept)
    docs: list[Document] = []
    for path in sorted(folder.glob("*.parquet")):
        for batch in pq.ParquetFile(path).iter_batches(columns=["doc_id", "position", "text", "status"]):
            columns = (batch.column(i).to_pylist() for i in range(4))
            for doc_id, position, text, status in zip(*columns, strict=True):
                if doc_id not in wanted:
                    continue
                if not docs or docs[-1].doc_id != doc_id:
                    if len(docs) >= chunk:
                        yield docs
                        docs = []
                    docs.append(Document(doc_id, "", (0, 0), "text"))
                docs[-1].passages.append(Passage(position, text, Status(status)))
    if docs:
        yield docs


def params_file(config: DedupConfig, rewrite: RewriteConfig | None = None) -> dict[str, str]:
    """The parameters files, keyed by their paths under OUT (each written by the first run
    that has it only): MinHash's, and the rewrite stage's when it is on."""
    files = {f"{INDEX}/{PARAMS_FILE}": json.dumps(params_of(config), indent=2) + "\n"}
    if rewrite is not None and rewrite.enabled:
        files[f"{INDEX}/{REWRITE_FILE}"] = json.dumps(rewrite_params_of(rewrite), indent=2) + "\n"
    return files
