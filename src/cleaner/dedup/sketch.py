"""The compact form of cleaned documents that the whole-corpus stages work on.

Learned boilerplate and dedup must see every document at once, but neither needs the text:
only per-passage numbers (a fingerprint of the normalised text, word and character counts,
a MinHash signature) and a few per-document fields. A `Sketch` holds exactly those, in
arrays (the signatures in files), so a run holds about 100 bytes per passage for the whole
corpus instead of its texts; the documents themselves wait on disk (the spool,
`cleaner.pipeline`) until the write.

The stages also record their verdicts here (statuses, the passage or document a duplicate
repeats, similarities); `apply` copies them onto the documents when they are read back.
Passages are stored document after document, in document order, so passage `k` of the
sketch is `docs[d].passages[k - starts[d]]`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from itertools import chain

import numpy as np

from cleaner.config import DedupConfig, RewriteConfig
from cleaner.dedup.embed import DIM, passage_codes
from cleaner.dedup.signatures import Signer
from cleaner.dedup.store import SignatureStore
from cleaner.document import Document, DuplicateKind, Reject, Status
from cleaner.text import fingerprints, word_spans

STATUSES = tuple(Status)  # status code -> Status
KEPT, BOILERPLATE, EXACT, NEAR, REWRITE = (STATUSES.index(s) for s in STATUSES)
KINDS = tuple(DuplicateKind)  # document duplicate kind code -> DuplicateKind
LEARNED_RULE = "learned"
_CHUNK = 4096  # passages normalised and counted per call: keeps the buffers in cache


@dataclass(eq=False)
class Sketch:
    # -- one entry per document, in input order ----------------------------------------
    doc_ids: list[str]
    sources: list[str]
    orders: np.ndarray  # (docs, 2) int64: Document.order
    published: np.ndarray  # (docs,) float64 POSIX seconds; NaN when undated
    # the site a document's chrome is learned with (`learned`): its host, else the name the
    # page gives itself (a page saved without its address); None: neither
    sites: list[str | None]
    starts: np.ndarray  # (docs + 1,) int64: document d's passages are starts[d]:starts[d + 1]
    # -- one entry per passage -----------------------------------------------------------
    status: np.ndarray  # uint8 code into STATUSES
    fingerprints: np.ndarray  # uint64 `text.fingerprint`; 0 for boilerplate
    n_words: np.ndarray  # int32 words of the normalised text; 0 for boilerplate
    chars: np.ndarray  # int32 length of the text
    rows: np.ndarray  # int32 row of its signature, -1 if it has none (short or boilerplate)
    # -- one row per signed passage ------------------------------------------------------
    # (signed, num_perm) uint32: an array, or for a run's joined sketch the spool's files
    values: np.ndarray | SignatureStore
    sizes: np.ndarray  # (signed,) int32 distinct shingles
    # -- one row per embedded passage (`embed_passages`; none when the rewrite stage is off) --
    code_rows: np.ndarray  # int32 per passage: row of its codes, -1 if it has none
    codes: np.ndarray  # (embedded, embed.DIM) int8 codes of the passage's embedding
    # -- verdicts (filled by the whole-corpus stages) ---------------------------------------
    learned: np.ndarray  # bool per passage: dropped by learned boilerplate
    dup_doc: np.ndarray  # int32 per passage: document index it repeats, -1
    dup_position: np.ndarray  # int32 per passage
    similarity: np.ndarray  # float64 per passage, NaN
    excluded: np.ndarray  # bool per document: rejected after reading (a repeated id)
    doc_dup_of: np.ndarray  # int32 per document: document it repeats, -1
    doc_kind: np.ndarray  # int8 per document: code into KINDS, -1
    doc_similarity: np.ndarray  # float64 per document, NaN
    # documents of earlier runs that dup_doc and doc_dup_of may point at, numbered from n_docs
    prior_ids: list[str] = field(default_factory=list)

    @property
    def n_docs(self) -> int:
        return len(self.doc_ids)

    @property
    def n_passages(self) -> int:
        return len(self.status)

    def signed_passages(self, rows: np.ndarray) -> np.ndarray:
        """The passages whose signatures are these rows (rows follow passage order)."""
        return _signed_passages(self.rows, rows)

    @property
    def doc_of(self) -> np.ndarray:
        """The document index of every passage."""
        return np.repeat(np.arange(self.n_docs, dtype=np.int32), np.diff(self.starts))

    @classmethod
    def of(cls, docs: Sequence[Document], config: DedupConfig, signer: Signer | None = None) -> Sketch:
        """Sketch cleaned documents: content passages of at least `near_min_words` words get
        a signature (shorter ones are only ever exact duplicates)."""
        signer = signer or Signer(config)
        passages = [p for doc in docs for p in doc.passages]
        n = len(passages)
        status = np.fromiter((STATUSES.index(p.status) for p in passages), dtype=np.uint8, count=n)
        content = np.flatnonzero(status != BOILERPLATE)
        texts = [passages[k].text for k in content.tolist()]
        n_words = np.zeros(n, dtype=np.int32)
        fps = np.zeros(n, dtype=np.uint64)
        for start in range(0, len(texts), _CHUNK):
            chunk, where = texts[start : start + _CHUNK], content[start : start + _CHUNK]
            n_words[where] = word_spans(chunk)[3]
            fps[where] = np.array(fingerprints(chunk), dtype=np.uint64)
        signed = np.flatnonzero((status != BOILERPLATE) & (n_words >= config.near_min_words))
        sigs = signer([passages[k].text for k in signed.tolist()])
        rows = np.full(n, -1, dtype=np.int32)
        rows[signed] = np.arange(len(signed), dtype=np.int32)
        lengths = [len(doc.passages) for doc in docs]
        return cls(
            doc_ids=[doc.doc_id for doc in docs],
            sources=[doc.source for doc in docs],
            orders=np.array([doc.order for doc in docs], dtype=np.int64).reshape(len(docs), 2),
            published=np.array([_timestamp(doc.published) for doc in docs], dtype=np.float64),
            sites=[doc.site or doc.site_name for doc in docs],
            starts=np.concatenate(([0], np.cumsum(lengths, dtype=np.int64))).astype(np.int64),
            status=status,
            fingerprints=fps,
            n_words=n_words,
            chars=np.fromiter((len(p.text) for p in passages), np.int32, count=n),
            rows=rows,
            values=sigs.values,
            sizes=sigs.sizes,
            code_rows=np.full(n, -1, dtype=np.int32),
            codes=np.zeros((0, DIM), dtype=np.int8),
            **_blank_verdicts(len(docs), n),
        )

    @classmethod
    def concat(cls, parts: Sequence[Sketch], signatures: SignatureStore | None = None) -> Sketch:
        """One sketch of the documents of `parts`, in that order. The parts give up their
        signatures to it (`values` is left empty in each); or, when the parts were spooled
        without them, the sketch's are `signatures`, the parts' rows in turn."""
        if not parts:
            return cls.of([], DedupConfig())
        doc_offsets = np.cumsum([0] + [p.n_docs for p in parts[:-1]])
        passage_offsets = np.cumsum([0] + [p.n_passages for p in parts[:-1]])
        row_offsets = np.cumsum([0] + [len(p.sizes) for p in parts[:-1]])

        def shifted(name: str, offsets) -> np.ndarray:
            return np.concatenate(
                [
                    np.where(getattr(p, name) >= 0, getattr(p, name) + o, -1)
                    for p, o in zip(parts, offsets, strict=True)
                ]
            ).astype(getattr(parts[0], name).dtype)

        merged = {}
        for f in fields(cls):
            if f.name == "values":
                continue
            values = [getattr(p, f.name) for p in parts]
            merged[f.name] = (
                list(chain.from_iterable(values)) if isinstance(values[0], list) else np.concatenate(values)
            )
        signed = int(row_offsets[-1]) + len(parts[-1].sizes)
        if signatures is not None:
            if len(signatures) != signed:
                raise ValueError(
                    f"{len(signatures)} signatures for the {signed} signed passages of the parts"
                )
            merged["values"] = signatures
        else:
            # The signatures are most of a sketch: they are copied part by part into one array
            # and each part's released as soon as it is copied, so joining never holds two copies.
            joined = np.empty((signed, parts[0].values.shape[1]), np.uint32)
            for p, o in zip(parts, row_offsets, strict=True):
                joined[o : o + len(p.sizes)] = p.values
                p.values = np.empty((0, joined.shape[1]), np.uint32)  # not a view: that would keep it
            merged["values"] = joined
        merged["starts"] = np.concatenate(
            [[0]] + [p.starts[1:] + o for p, o in zip(parts, passage_offsets, strict=True)]
        ).astype(np.int64)
        merged["rows"] = shifted("rows", row_offsets)
        merged["code_rows"] = shifted("code_rows", np.cumsum([0] + [len(p.codes) for p in parts[:-1]]))
        merged["dup_doc"] = shifted("dup_doc", doc_offsets)
        merged["doc_dup_of"] = shifted("doc_dup_of", doc_offsets)
        return cls(**merged)

    def embed_passages(self, docs: Sequence[Document], config: RewriteConfig) -> None:
        """Embed the passages the line rules kept (`embed.passage_codes`: those with at least
        `config.min_words` words outside quotation marks, of documents with at least
        `config.min_aligned` such passages), for the rewrite stage; `docs` are
        the documents sketched, of which only those in `config.languages` are embedded. 256
        bytes and a row number per embedded passage."""
        wanted = np.array(
            [not config.languages or doc.language in config.languages for doc in docs], dtype=bool
        )
        doc_of = self.doc_of
        k = np.flatnonzero((self.status == KEPT) & wanted[doc_of])
        # a document with fewer kept passages than an alignment needs cannot have enough
        # with a vector: not even their words are counted (a million one-line records)
        k = k[(np.bincount(doc_of[k], minlength=self.n_docs) >= config.min_aligned)[doc_of[k]]]
        passages = [p for doc in docs for p in doc.passages]
        has, codes = passage_codes(
            [passages[i].text for i in k.tolist()], config.min_words, doc_of[k], config.min_aligned
        )
        self.code_rows = np.full(self.n_passages, -1, dtype=np.int32)
        self.code_rows[k[has]] = np.arange(int(has.sum()), dtype=np.int32)
        self.codes = codes[has]

    def visiting_order(self) -> np.ndarray:
        """Document indices in the order dedup visits them, which decides who counts as the
        first occurrence: earliest published first, undated last, then input order.
        Excluded documents are left out."""
        published = np.where(np.isnan(self.published), math.inf, self.published)
        order = np.lexsort((self.orders[:, 1], self.orders[:, 0], published))
        return order[~self.excluded[order]]

    def exclude_repeated_ids(self, known: np.ndarray | None = None) -> list[Reject]:
        """Keep the first record of each id (in input order); later ones, and ones whose id
        is already in the corpus (`known`, per document), are rejected and left out of every
        later stage, since two records cannot be one document."""
        first: dict[str, str] = {}
        rejects = []
        for d in np.lexsort((self.orders[:, 1], self.orders[:, 0])).tolist():
            if self.excluded[d]:
                continue
            doc_id = self.doc_ids[d]
            if known is not None and known[d]:
                self.excluded[d] = True
                rejects.append(
                    Reject(
                        self.sources[d],
                        "duplicate_id",
                        "same doc_id as a document already in the corpus: the same `id`, or, for a "
                        "record without one, the same line or page at the same place in its input",
                        doc_id=doc_id,
                    )
                )
            elif doc_id in first:
                self.excluded[d] = True
                rejects.append(
                    Reject(
                        self.sources[d],
                        "duplicate_id",
                        f"same id as {first[doc_id]}; the first record is kept",
                        doc_id=doc_id,
                    )
                )
            else:
                first[doc_id] = self.sources[d]
        return rejects

    def apply(self, docs: Sequence[Document], first: int = 0) -> list[Document]:
        """Copy the verdicts onto `docs`, which are documents first, first + 1, ... of the
        sketch; returns them without the excluded ones."""
        kept = []
        for d, doc in enumerate(docs, start=first):
            if self.doc_ids[d] != doc.doc_id:
                raise ValueError(f"document {d} of the sketch is {self.doc_ids[d]}, not {doc.doc_id}")
            if self.excluded[d]:
                continue
            kept.append(doc)
            start = int(self.starts[d])
            for k, p in enumerate(doc.passages, start=start):
                code = self.status[k]
                if self.learned[k] and p.status is Status.KEPT:
                    p.drop(LEARNED_RULE)
                elif code in (EXACT, NEAR, REWRITE):
                    p.status = STATUSES[code]
                    p.duplicate_of_doc = self._target(self.dup_doc[k])
                    p.duplicate_of_position = int(self.dup_position[k])
                    p.similarity = float(self.similarity[k])
            if self.doc_dup_of[d] >= 0:
                doc.duplicate_of = self._target(self.doc_dup_of[d])
                doc.duplicate_kind = KINDS[self.doc_kind[d]]
                doc.duplicate_similarity = float(self.doc_similarity[d])
        return kept

    def _target(self, d: int) -> str:
        return self.doc_ids[d] if d < self.n_docs else self.prior_ids[d - self.n_docs]

    def kept_documents(self) -> np.ndarray:
        """The rule of what goes into the corpus, in one place: a document is kept (written to
        documents/, and indexed) unless it is excluded, a duplicate document, or left with no
        kept line."""
        kept_lines = np.bincount(self.doc_of[self.status == KEPT], minlength=self.n_docs)
        return ~self.excluded & (self.doc_dup_of < 0) & (kept_lines > 0)

    def kept_of(self, first: int, n: int, kept: np.ndarray | None = None) -> list[bool]:
        """`kept_documents` (or `kept`, computed from it once for many calls) for documents
        first .. first + n - 1, as `apply` returns them (without the excluded ones): which of
        them the writer writes to documents/."""
        rows = slice(first, first + n)
        kept = self.kept_documents() if kept is None else kept
        return kept[rows][~self.excluded[rows]].tolist()

    def no_content(self) -> np.ndarray:
        """Documents (not excluded) all of whose passages are boilerplate."""
        content = np.bincount(self.doc_of[self.status != BOILERPLATE], minlength=self.n_docs)
        return (content == 0) & ~self.excluded


@dataclass
class Prior:
    """The indexed documents a run's passages may repeat, seen as dedup needs them: every
    comparable passage of each, and signatures (with their texts) for the first occurrences
    that share a band with a passage of the run."""

    doc_ids: list[str] = field(default_factory=list)
    doc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # index into doc_ids
    position: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    fingerprints: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    n_words: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    chars: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    first: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))  # signature row or -1
    values: np.ndarray | None = None
    sizes: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    texts: list[str] = field(default_factory=list)  # per signature row: what it was computed from

    def signed_texts(self, rows: np.ndarray) -> list[str]:
        """The texts of these signature rows, for dedup's exact check."""
        return [self.texts[r] for r in rows.tolist()]

    def signed_passages(self, rows: np.ndarray) -> np.ndarray:
        """The passages (indices into the arrays above) whose signatures are these rows."""
        return _signed_passages(self.rows, rows)


def _signed_passages(row_of: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Signature rows are numbered in passage order: row r is the r-th signed passage."""
    return np.flatnonzero(row_of >= 0)[rows]


def _timestamp(published: datetime | None) -> float:
    if not isinstance(published, datetime):
        return math.nan
    if published.tzinfo is None:  # naive datetimes are read as UTC, as the writer does
        published = published.replace(tzinfo=UTC)
    return published.timestamp()


def _blank_verdicts(n_docs: int, n_passages: int) -> dict[str, np.ndarray]:
    return {
        "learned": np.zeros(n_passages, dtype=bool),
        "dup_doc": np.full(n_passages, -1, dtype=np.int32),
        "dup_position": np.full(n_passages, -1, dtype=np.int32),
        "similarity": np.full(n_passages, np.nan, dtype=np.float64),
        "excluded": np.zeros(n_docs, dtype=bool),
        "doc_dup_of": np.full(n_docs, -1, dtype=np.int32),
        "doc_kind": np.full(n_docs, -1, dtype=np.int8),
        "doc_similarity": np.full(n_docs, np.nan, dtype=np.float64),
    }
