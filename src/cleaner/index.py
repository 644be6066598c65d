"""The dedup index a corpus keeps, so that each run deduplicates against every earlier one.

    OUT/index/params.json                 what signatures and band keys depend on
    OUT/index/documents/run=<id>/         kept documents: number, doc_id
    OUT/index/passages/run=<id>/          comparable passages of kept documents
    OUT/index/inputs/run=<id>/            input files read: key, size, mtime, digest (or, for
                                          a file rejected unread, -1 and "rejected:<reason>")

Like the corpus, the index only grows: a run adds one partition to each of its datasets,
committed with the run's own partitions. A run reads only compact columns of it: per passage
its document number, position, fingerprint and counts, then one band-key column at a time to
find the passages that share a band with the run's, and the signatures of just those. So a
run's cost and memory follow its batch, plus a few bytes per indexed passage.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from functools import cached_property
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from cleaner.config import DedupConfig
from cleaner.dedup import band_keys
from cleaner.document import Reject
from cleaner.errors import OutputError
from cleaner.readers import InputFile, Seen
from cleaner.sketch import BOILERPLATE, KEPT, Prior, Sketch
from cleaner.writers import PASSAGES_SCHEMA

INDEX = "index"
PARAMS_FILE = "params.json"
_REJECTED = "rejected:"  # in place of the digest of an input file rejected unread
# The settings a signature, a band key or the choice of indexed passages depends on.
PARAMS = (
    "shingle",
    "shingle_size",
    "num_perm",
    "seed",
    "hash_scheme",
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
        ("size", pa.int32()),  # distinct shingles, for containment
        ("signature", pa.binary(4 * config.num_perm)),  # uint32 values, little-endian
    ]
    passages += [(name, pa.uint64()) for name in band_columns(config)]
    return {
        "documents": pa.schema([("doc", pa.int64()), ("doc_id", pa.string())]),
        "passages": pa.schema(passages),
        "inputs": pa.schema(
            [("key", pa.string()), ("size", pa.int64()), ("mtime_ns", pa.int64()), ("digest", pa.string())]
        ),
    }


class Index:
    """One corpus's index, opened for a run with that run's dedup configuration."""

    def __init__(self, out: str | Path, config: DedupConfig) -> None:
        self.root = Path(out) / INDEX
        self.config = config
        self.schemas = schemas(config)
        stored = self.root / PARAMS_FILE
        if stored.exists():
            params = json.loads(stored.read_text())
            if params != params_of(config):
                changed = ", ".join(
                    f"{k} {params.get(k)!r} -> {v!r}"
                    for k, v in params_of(config).items()
                    if params.get(k) != v
                )
                raise OutputError(
                    f"{out} was deduplicated with other MinHash settings ({changed}); its index "
                    "cannot be compared with this run's: use the corpus's settings or a new --out"
                )

    def _dataset(self, name: str) -> ds.Dataset | None:
        return _runs_dataset(self.root / name, self.schemas[name])

    def n_docs(self) -> int:
        data = self._dataset("documents")
        return data.count_rows() if data is not None else 0

    @cached_property
    def known_inputs(self) -> dict[str, tuple[int, int, str]]:
        """key -> (size, mtime_ns, digest) of the latest read of every input (read once:
        the index changes only when the run commits)."""
        data = self._dataset("inputs")
        if data is None:
            return {}
        rows = data.to_table().to_pylist()
        return {r["key"]: (r["size"], r["mtime_ns"], r["digest"]) for r in rows}

    def unread(self, files: Sequence[InputFile]) -> list[tuple[int, InputFile]]:
        """The (input rank, file) pairs to read: all but the inputs an earlier run read and
        nobody touched since (same key, size and modification time)."""
        known = self.known_inputs
        return [(rank, f) for rank, f in enumerate(files) if not _untouched(f, known)]

    def unreported(self, rejects: Sequence[Reject]) -> list[Reject]:
        """The rejects to record: all but whole input files an earlier run already rejected
        for the same reason (a .pdf in the inbox is reported once, not every day). Such a
        file is still looked at again every run (see `reject_inputs`)."""
        known = self.known_inputs
        return [
            r for r in rejects if r.key is None or known.get(r.key, (0, 0, ""))[2] != _REJECTED + r.reason
        ]

    def skip_unchanged(self, sketch: Sketch, inputs: Sequence[Seen]) -> int:
        """Leave out of the run the documents of inputs read again whose bytes an earlier
        run read already (touched, not changed); returns how many such inputs there were."""
        known = self.known_inputs
        same = [rank for rank, key, _, _, digest in inputs if key in known and known[key][2] == digest]
        sketch.excluded[np.isin(sketch.orders[:, 0], same)] = True
        return len(same)

    def known_ids(self, doc_ids: Sequence[str]) -> np.ndarray:
        """Which of these ids are documents of the corpus already."""
        data = self._dataset("documents")
        if data is None or not doc_ids:
            return np.zeros(len(doc_ids), dtype=bool)
        found = pc.is_in(
            pa.array(doc_ids, pa.string()), value_set=data.to_table(columns=["doc_id"])["doc_id"]
        )
        return found.to_numpy(zero_copy_only=False)

    def prior(self, sketch: Sketch) -> Prior:
        """The indexed documents the sketch's passages may repeat (`Prior`)."""
        data = self._dataset("passages")
        if data is None:
            return Prior()
        config = self.config
        comparable = (sketch.status != BOILERPLATE) & (sketch.n_words >= config.min_words)
        signed = comparable & (sketch.rows >= 0) & (sketch.n_words >= config.near_min_words)
        files = data.files
        facts = data.to_table(columns=["doc", "position", "fingerprint", "n_words", "chars", "first", "size"])
        first = facts["first"].to_numpy(zero_copy_only=False)
        hit = first & np.isin(facts["fingerprint"].to_numpy(), sketch.fingerprints[comparable])
        # An indexed first occurrence sharing a band key with the run's passages. The index
        # is read one column of one row group at a time: decoding a row group's 42 band
        # columns at once takes ~10 times their size in buffers (measured: +200 MB for 65k rows).
        new_values = sketch.values[sketch.rows[signed]]
        new_keys = [np.sort(band_keys(new_values, config, band)[:, 0]) for band in range(config.bands)]
        parts = []
        for path in files:
            parquet = pq.ParquetFile(path)
            for group in range(parquet.num_row_groups):
                part = np.zeros(parquet.metadata.row_group(group).num_rows, dtype=bool)
                for keys, name in zip(new_keys, band_columns(config), strict=True):
                    if not len(keys):
                        continue
                    column = parquet.read_row_group(group, columns=[name], use_threads=False)[name]
                    old = pc.fill_null(column, 0).to_numpy()
                    at = np.minimum(np.searchsorted(keys, old), len(keys) - 1)
                    part |= (keys[at] == old) & column.is_valid().to_numpy(zero_copy_only=False)
                parts.append(part)
        shared = (np.concatenate(parts) if parts else np.zeros(0, dtype=bool)) & first
        docs = facts["doc"].to_numpy()
        wanted = np.unique(docs[hit | shared])
        take = np.isin(docs, wanted)
        numbers, doc_index = np.unique(docs[take], return_inverse=True)
        rows = np.full(int(take.sum()), -1, dtype=np.int32)
        signed_rows = np.flatnonzero(shared[take])
        rows[signed_rows] = np.arange(len(signed_rows), dtype=np.int32)
        values = self._signatures(files, np.flatnonzero(shared))
        ids = self._doc_ids(numbers)
        return Prior(
            doc_ids=ids,
            doc=doc_index.astype(np.int64),
            position=facts["position"].to_numpy()[take],
            fingerprints=facts["fingerprint"].to_numpy()[take],
            n_words=facts["n_words"].to_numpy()[take],
            chars=facts["chars"].to_numpy()[take],
            first=first[take],
            rows=rows,
            values=values,
            sizes=facts["size"].to_numpy(zero_copy_only=False)[take][signed_rows].astype(np.int32),
        )

    def texts(self, prior: Prior, rows: np.ndarray) -> list[str | None]:
        """The texts of these signature rows of `prior`, for dedup's exact check: read from
        the corpus's `passages` dataset, only the documents they belong to. None for one the
        corpus no longer holds."""
        signed = prior.signed_passages(rows)
        keys = [
            (prior.doc_ids[d], p)
            for d, p in zip(prior.doc[signed].tolist(), prior.position[signed].tolist(), strict=True)
        ]
        data = _runs_dataset(self.root.parent / "passages", PASSAGES_SCHEMA)
        found: dict[tuple[str, int], str] = {}
        if data is not None and keys:
            table = data.to_table(
                columns=["doc_id", "position", "text"],
                filter=pc.field("doc_id").isin(pa.array(sorted({k[0] for k in keys}), pa.string())),
            )
            found = dict(
                zip(
                    zip(table["doc_id"].to_pylist(), table["position"].to_pylist(), strict=True),
                    table["text"].to_pylist(),
                    strict=True,
                )
            )
        return [found.get(k) for k in keys]

    def _signatures(self, files: list[str], rows: np.ndarray) -> np.ndarray:
        """Signatures of these passage rows (row numbers over `files` in order), reading only
        the row groups that hold them."""
        out = np.empty((len(rows), self.config.num_perm), dtype=np.uint32)
        offset, filled = 0, 0
        for path in files:
            meta = pq.ParquetFile(path)
            for group in range(meta.num_row_groups):
                n = meta.metadata.row_group(group).num_rows
                inside = rows[(rows >= offset) & (rows < offset + n)] - offset
                if len(inside):
                    column = meta.read_row_group(group, columns=["signature"])["signature"]
                    for r in inside.tolist():
                        out[filled] = np.frombuffer(column[r].as_py(), dtype="<u4")
                        filled += 1
                offset += n
        return out

    def _doc_ids(self, numbers: np.ndarray) -> list[str]:
        data = self._dataset("documents")
        if data is None or not len(numbers):
            return []
        table = data.to_table(filter=pc.field("doc").isin(pa.array(numbers, pa.int64())))
        by_number = dict(zip(table["doc"].to_pylist(), table["doc_id"].to_pylist(), strict=True))
        return [by_number[n] for n in numbers.tolist()]


def _runs_dataset(folder: Path, schema: pa.Schema) -> ds.Dataset | None:
    """The partitions of the runs committed under `folder`, rows in file order."""
    files = sorted(str(p) for p in folder.glob("run=*/*.parquet"))
    return ds.dataset(files, format="parquet", schema=schema) if files else None


def reject_inputs(rejects: Sequence[Reject]) -> list[tuple[str, int, int, str]]:
    """Rows of `index/inputs` for input files rejected unread: size -1, so that the file is
    never taken for untouched and is looked at again next run (its permissions may be fixed
    without changing its modification time), and the reason in place of a digest."""
    return [(r.key, -1, -1, _REJECTED + r.reason) for r in rejects if r.key is not None]


def _untouched(f: InputFile, known: dict[str, tuple[int, int, str]]) -> bool:
    try:
        stat = f.path.stat()
    except OSError:
        return False  # reading it will say what is wrong
    return f.key in known and known[f.key][:2] == (stat.st_size, stat.st_mtime_ns)


class PassageRows:
    """The index rows of a run: the comparable passages of its kept documents (numbered
    from `first_number` in input order), band keys and signatures for first occurrences.

    Made a batch at a time as they are written (`writers.write_table`). Built whole as a
    table, they took ~730 bytes a row (a signature per first occurrence, 42 band keys per
    row: 183 MB for the 262,000 rows of a 570,000 passage run) from the flow's building them
    to the end of the commit, and ~190 MB more while being built; here they cost 33 bytes a
    row until written, plus one batch. The signatures are read from the sketch's own array,
    which they keep alive."""

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
        self.values, self.sizes = sketch.values, sketch.sizes

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
        config, width = self.config, self.config.num_perm
        row = self.rows[rows]
        n, signed = len(row), row >= 0
        values = self.values[row[signed]].astype("<u4", copy=False)
        sizes = np.zeros(n, dtype=np.int32)
        sizes[signed] = self.sizes[row[signed]]
        data = np.zeros((n, width), dtype="<u4")  # null slots are zeros, as a builder leaves them
        data[signed] = values
        validity = pa.array(signed).buffers()[1]  # the bits of a boolean array: 1 = signed
        columns = [
            pa.array(self.doc[rows]),
            pa.array(self.position[rows]),
            pa.array(self.fingerprints[rows]),
            pa.array(self.n_words[rows]),
            pa.array(self.chars[rows]),
            pa.array(self.first[rows]),
            pa.array(sizes),
            pa.FixedSizeBinaryArray.from_buffers(
                pa.binary(4 * width), n, [validity, pa.py_buffer(data)], null_count=int(n - signed.sum())
            ),
        ]
        for band in range(config.bands):
            keys = np.zeros(n, dtype=np.uint64)
            if len(values):
                keys[signed] = band_keys(values, config, band)[:, 0]
            columns.append(pa.array(keys, mask=~signed))
        return pa.RecordBatch.from_arrays(columns, schema=self.schema)


def kept_documents(sketch: Sketch) -> np.ndarray:
    """The run's documents that go into the corpus (and so into the index)."""
    kept_lines = np.bincount(sketch.doc_of[sketch.status == KEPT], minlength=sketch.n_docs)
    return ~sketch.excluded & (sketch.doc_dup_of < 0) & (kept_lines > 0)


def run_tables(
    sketch: Sketch, first_number: int, inputs: Sequence[tuple[str, int, int, str]], config: DedupConfig
) -> dict[str, pa.Table | PassageRows]:
    """A run's partition of each index dataset, keyed by its path under OUT: tables, and the
    passages' rows (`PassageRows`), made as `writers.write_table` writes them."""
    kept = kept_documents(sketch)
    ids = [doc_id for doc_id, k in zip(sketch.doc_ids, kept.tolist(), strict=True) if k]
    shapes = schemas(config)
    return {
        f"{INDEX}/documents": pa.table(
            {"doc": np.arange(first_number, first_number + len(ids), dtype=np.int64), "doc_id": ids},
            schema=shapes["documents"],
        ),
        f"{INDEX}/passages": PassageRows(sketch, kept, first_number, config),
        f"{INDEX}/inputs": pa.table(
            {
                name: [row[i] for row in inputs]
                for i, name in enumerate(("key", "size", "mtime_ns", "digest"))
            },
            schema=shapes["inputs"],
        ),
    }


def params_file(config: DedupConfig) -> dict[str, str]:
    """The parameters file, keyed by its path under OUT (written by the first run only)."""
    return {f"{INDEX}/{PARAMS_FILE}": json.dumps(params_of(config), indent=2) + "\n"}
