"""The spool's parts: a part's cleaned documents as Arrow columns, and the corpus's rows made
from them with the run's verdicts.

A part is one Arrow IPC file, one row per document and its passages as a list column, read
back memory-mapped: the exact check of dedup takes a few passages' texts from it (`texts`),
and the writer turns it into the part's rows of documents/, passages/ and duplicates/ with
column operations (`place`): the statuses the line rules gave are the spooled ones, the
verdicts of learned boilerplate and dedup come from the run's `Sketch` as arrays, and each
document's text is joined from its kept passages. No `Document` is made but for the few a
`no_content` reject names; `documents` makes them all back, for tests and tools.

What it writes is what `Sketch.apply` and `corpus.writers`' row functions make of the same
documents (tests/test_spool.py holds the two to each other).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cleaner.clean import lines
from cleaner.corpus import writers
from cleaner.dedup.sketch import BOILERPLATE, KEPT, KINDS, LEARNED_RULE, STATUSES, Sketch
from cleaner.document import Document, Passage, Reject
from cleaner.errors import OutputError, first_line

_TIME = pa.timestamp("us", tz="UTC")  # as the corpus stores them
PASSAGE = pa.struct(
    [
        ("position", pa.int32()),
        ("text", pa.string()),
        ("status", pa.uint8()),  # code into STATUSES, as the line rules left it
        ("rule", pa.string()),
    ]
)
SCHEMA = pa.schema(
    [
        ("doc_id", pa.string()),
        ("source", pa.string()),
        ("order_file", pa.int64()),
        ("order_line", pa.int64()),
        ("kind", pa.string()),
        ("url", pa.string()),
        ("site", pa.string()),
        ("site_name", pa.string()),
        ("title", pa.string()),
        ("author", pa.string()),
        ("published", _TIME),
        ("fetched", _TIME),
        ("extraction", pa.string()),
        ("language", pa.string()),
        ("passages", pa.list_(PASSAGE)),
    ]
)
_FIELDS = [f.name for f in SCHEMA if f.name not in ("order_file", "order_line", "passages")]
_STATUS_NAMES = pa.array([s.value for s in STATUSES])
_KIND_NAMES = pa.array([k.value for k in KINDS])


class SpoolError(OutputError):
    """A part of the run's own spool is missing or damaged: the run stops, committing nothing."""


def table_of(docs: Sequence[Document]) -> pa.Table:
    """A part's cleaned documents as the spool stores them."""
    passages = [p for doc in docs for p in doc.passages]
    offsets = np.zeros(len(docs) + 1, dtype=np.int32)
    np.cumsum([len(doc.passages) for doc in docs], out=offsets[1:])
    status = {s: i for i, s in enumerate(STATUSES)}
    values = pa.StructArray.from_arrays(
        [
            pa.array([p.position for p in passages], pa.int32()),
            pa.array([p.text for p in passages], pa.string()),
            pa.array([status[p.status] for p in passages], pa.uint8()),
            pa.array([p.rule for p in passages], pa.string()),
        ],
        fields=list(PASSAGE),
    )
    columns = {
        name: pa.array([getattr(doc, name) for doc in docs], SCHEMA.field(name).type) for name in _FIELDS
    }
    columns["order_file"] = pa.array([doc.order[0] for doc in docs], pa.int64())
    columns["order_line"] = pa.array([doc.order[1] for doc in docs], pa.int64())
    columns["passages"] = pa.ListArray.from_arrays(
        pa.array(offsets), values, type=SCHEMA.field("passages").type
    )
    return pa.Table.from_arrays([columns[f.name] for f in SCHEMA], schema=SCHEMA)


def write(fh, docs: Sequence[Document]) -> None:
    """A part's documents into an open binary file, as one Arrow IPC file."""
    table = table_of(docs)
    with pa.ipc.new_file(fh, SCHEMA) as writer:
        writer.write_table(table)


def read(path: Path, name: str, docs: int | None = None) -> pa.Table:
    """Part `name` of the spool, memory-mapped; a `SpoolError` if it is missing, damaged or
    holds other than `docs` documents."""
    try:
        with pa.memory_map(str(path)) as source:
            table = pa.ipc.open_file(source).read_all()
    except (OSError, pa.ArrowException) as exc:
        raise SpoolError(f"part {name} of the run's spool cannot be read ({first_line(exc)})") from None
    if not table.schema.equals(SCHEMA):
        raise SpoolError(f"part {name} of the run's spool is not a spool part (its columns differ)")
    if docs is not None and table.num_rows != docs:
        raise SpoolError(f"part {name} of the run's spool holds {table.num_rows} documents, not {docs}")
    return table


def documents(table: pa.Table) -> list[Document]:
    """The documents of a part as `Document`s, passages and all."""
    rows = table.drop_columns(["passages"]).to_pylist()
    passages = table.column("passages").to_pylist()
    return [
        Document(
            **{k: row[k] for k in _FIELDS},
            order=(row["order_file"], row["order_line"]),
            passages=[Passage(p["position"], p["text"], STATUSES[p["status"]], p["rule"]) for p in ps],
        )
        for row, ps in zip(rows, passages, strict=True)
    ]


def _passages(table: pa.Table) -> tuple[pa.StructArray, np.ndarray]:
    """A part's passages, all documents' in order, and where each document's start."""
    column = table.column("passages").combine_chunks()
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    starts = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    return column.flatten(), starts


def texts(table: pa.Table, passages: np.ndarray) -> list[str]:
    """The texts of passages of a part, numbered from its first passage."""
    values, _ = _passages(table)
    return values.field("text").take(pa.array(passages, pa.int64())).to_pylist()


@dataclass
class Placed:
    """A part's rows of the corpus with the run's verdicts, and what the manifest counts."""

    documents: pa.Table
    passages: pa.Table
    duplicates: pa.Table
    rejects: list[Reject]  # its documents left with no content (`lines.no_content_rejects`)
    statuses: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)
    kinds: Counter = field(default_factory=Counter)
    kept: int = 0


def place(table: pa.Table, name: str, sketch: Sketch, first: int, kept: np.ndarray) -> Placed:
    """The rows of part `name` (documents first, first + 1, ... of `sketch`) as the corpus
    writes them: the sketch's verdicts put on them as `Sketch.apply` puts them on documents,
    `kept` (`Sketch.kept_documents`) saying which go to documents/. Excluded documents are
    left out of every table."""
    table = table.combine_chunks()
    n = table.num_rows
    doc_ids = table.column("doc_id").combine_chunks()
    if n and not doc_ids.equals(pa.array(sketch.doc_ids[first : first + n], pa.string())):
        raise SpoolError(f"part {name} of the run's spool holds other documents than the run's sketch")
    values, starts = _passages(table)
    lo, hi = int(sketch.starts[first]), int(sketch.starts[first + n])
    if hi - lo != len(values) or not np.array_equal(starts + lo, sketch.starts[first : first + n + 1]):
        raise SpoolError(f"part {name} of the run's spool holds other passages than the run's sketch")
    lengths = np.diff(starts)
    doc_of = np.repeat(np.arange(n, dtype=np.int64), lengths)

    # the verdicts, as Sketch.apply puts them: learned boilerplate on a kept line, else a
    # duplicate's status and pointer; the rest as the line rules left it. (A verdict added
    # to the Sketch must be placed here too: tests/test_spool.py holds the two equal.)
    spooled = values.field("status").to_numpy(zero_copy_only=False)
    code = sketch.status[lo:hi]
    learned = sketch.learned[lo:hi] & (spooled == KEPT)
    dup = ~learned & (code != KEPT) & (code != BOILERPLATE)  # EXACT or NEAR: a duplicate's status
    status = np.where(learned, BOILERPLATE, np.where(dup, code, spooled)).astype(np.uint8)
    rule = pc.if_else(pa.array(learned), pa.scalar(LEARNED_RULE), values.field("rule"))
    targets = sketch.dup_doc[lo:hi][dup]
    dup_of_doc = _scatter([_target(sketch, int(d)) for d in targets.tolist()], dup)

    excluded = sketch.excluded[first : first + n]
    shown = ~excluded[doc_of]  # the passages of the documents written
    text = values.field("text")
    passages = pa.Table.from_arrays(
        [
            doc_ids.take(pa.array(doc_of)),
            table.column("source").combine_chunks().take(pa.array(doc_of)),
            values.field("position"),
            text,
            _STATUS_NAMES.take(pa.array(status)),
            rule,
            dup_of_doc,
            pa.array(sketch.dup_position[lo:hi].astype(np.int32), mask=~dup),
            pa.array(sketch.similarity[lo:hi], pa.float64(), mask=~dup),
        ],
        schema=writers.PASSAGES_SCHEMA,
    ).filter(pa.array(shown))

    # documents/: the kept ones, their text their kept passages
    keep = kept[first : first + n]
    dropped = np.bincount(doc_of[status != KEPT], minlength=n).astype(np.int32)
    joined = _joined(text, doc_of, status == KEPT, n)
    documents = pa.Table.from_arrays(
        [
            *(table.column(c) for c in ("doc_id", "source", "url", "site", "title", "author")),
            *(table.column(c) for c in ("published", "fetched", "language", "extraction")),
            joined,
            pa.array(lengths.astype(np.int32)),
            pa.array(dropped),
        ],
        schema=writers.DOCUMENTS_SCHEMA,
    ).filter(pa.array(keep))

    # duplicates/: the duplicate documents, with all their content
    dup_docs = np.flatnonzero(~excluded & (sketch.doc_dup_of[first : first + n] >= 0))
    where = pa.array(dup_docs)
    content = _joined(text, doc_of, status != BOILERPLATE, n).take(where)
    kind_codes = sketch.doc_kind[first : first + n][dup_docs]
    duplicates = pa.Table.from_arrays(
        [
            *(table.column(c).take(where) for c in ("doc_id", "source", "url", "title")),
            pa.array(
                [_target(sketch, int(d)) for d in sketch.doc_dup_of[first + dup_docs].tolist()], pa.string()
            ),
            _KIND_NAMES.take(pa.array(kind_codes.astype(np.int64))),
            pa.array(sketch.doc_similarity[first + dup_docs], pa.float64()),
            content,
        ],
        schema=writers.DUPLICATES_SCHEMA,
    )

    # documents with no content line left: rejected, their lines in passages/ all the same
    content_lines = np.bincount(doc_of[status != BOILERPLATE], minlength=n)
    empty = np.flatnonzero((content_lines == 0) & ~excluded)
    rejects = lines.no_content_rejects(_documents(table, values, starts, status, rule, empty))

    shown_status = status[shown]
    rules = pc.value_counts(rule.filter(pa.array(shown)).drop_null())
    return Placed(
        documents=documents,
        passages=passages,
        duplicates=duplicates,
        rejects=rejects,
        statuses=Counter(
            {
                STATUSES[i].value: int(c)
                for i, c in enumerate(np.bincount(shown_status, minlength=len(STATUSES)))
            }
        ),
        rules=Counter(
            dict(zip(rules.field("values").to_pylist(), rules.field("counts").to_pylist(), strict=True))
        ),
        kinds=Counter(KINDS[c].value for c in kind_codes.tolist()),
        kept=int(keep.sum()),
    )


def _target(sketch: Sketch, d: int) -> str:
    """A document's id, of this run (d < n_docs) or of an earlier one."""
    return sketch.doc_ids[d] if d < sketch.n_docs else sketch.prior_ids[d - sketch.n_docs]


def _scatter(strings: list[str], where: np.ndarray) -> pa.Array:
    """A string column: `strings` in turn where `where` is true, null elsewhere."""
    index = np.cumsum(where) - 1
    return pa.array(strings, pa.string()).take(pa.array(np.maximum(index, 0), mask=~where))


def _joined(text: pa.Array, doc_of: np.ndarray, chosen: np.ndarray, n: int) -> pa.Array:
    """Per document, the texts of its `chosen` passages with a blank line between
    (`Document.text` for the kept ones, `content_text` for the content ones)."""
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(doc_of[chosen], minlength=n), out=offsets[1:])
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), text.filter(pa.array(chosen))), "\n\n")


def _documents(
    table: pa.Table,
    values: pa.StructArray,
    starts: np.ndarray,
    status: np.ndarray,
    rule: pa.Array,
    which: np.ndarray,
) -> list[Document]:
    """Documents `which` of the part, with their passages' statuses and rules as placed."""
    docs = []
    for d in which.tolist():
        lo, hi = int(starts[d]), int(starts[d + 1])
        docs.append(
            Document(
                doc_id=table.column("doc_id")[d].as_py(),
                source=table.column("source")[d].as_py(),
                order=(table.column("order_file")[d].as_py(), table.column("order_line")[d].as_py()),
                kind=table.column("kind")[d].as_py(),
                passages=[
                    Passage(position, text, STATUSES[code], r)
                    for position, text, code, r in zip(
                        values.field("position")[lo:hi].to_pylist(),
                        values.field("text")[lo:hi].to_pylist(),
                        status[lo:hi].tolist(),
                        rule[lo:hi].to_pylist(),
                        strict=True,
                    )
                ],
            )
        )
    return docs
