"""Passage and document deduplication.

Documents are visited in canonical order: earliest `published` first (undated documents after
dated ones), then input order. The first occurrence of a passage is kept; a later passage is
a duplicate if

- its normalised form hashes like a kept passage's (exact duplicate, similarity 1.0), or
- it shares an LSH band with a kept passage and their estimated Jaccard, checked for every
  candidate, reaches the threshold (near duplicate; it points at the most similar one).

A document whose kept text falls under `min_unique_share` of its content is a duplicate
document: it leaves the corpus, pointing at the document it repeats most. Its passages never
become first occurrences, so nothing in the corpus points at text that is not in it.

Signatures and band keys of every candidate passage are computed up front, in bulk
(`cleaner.signatures`); the visit itself only looks up band keys and compares signature rows.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from cleaner.config import DedupConfig
from cleaner.document import Document, DuplicateKind, Passage, Status
from cleaner.signatures import Signatures, Signer, containment
from cleaner.text import fingerprint, words

_Key = tuple[str, int]  # (doc_id, position) of a kept passage
_BAND_MIX = np.uint64(0x100000001B3)
# A candidate counts as part of a merged passage only if its own estimated Jaccard reaches
# this: a containment derived from a small Jaccard against a much longer passage is mostly
# estimation noise, and summing noise manufactures copies (measured on benchmarks/quality:
# 1,932 false duplicates with a share-only rule, 49 when any two candidates could combine).
_MIN_COVER_JACCARD = 0.3
# Earlier rows of the same LSH band group a row is compared with, besides the group's first.
_RUN_NEIGHBOURS = 8


@dataclass
class DedupStats:
    passages_compared: int = 0
    exact_passages: int = 0
    near_passages: int = 0
    candidates_checked: int = 0
    candidates_rejected: int = 0
    duplicate_documents: Counter = field(default_factory=Counter)  # kind -> count
    seconds: dict[str, float] = field(default_factory=dict)  # time per step

    def as_dict(self) -> dict:
        return {
            "passages_compared": self.passages_compared,
            "exact_passages": self.exact_passages,
            "near_passages": self.near_passages,
            "lsh_candidates_checked": self.candidates_checked,
            "lsh_candidates_rejected": self.candidates_rejected,
            "duplicate_documents": dict(sorted(self.duplicate_documents.items())),
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }


def canonical_order(docs: list[Document]) -> list[Document]:
    """Earliest published first, undated last, then input order: who counts as first."""

    def key(doc: Document) -> tuple:
        published = doc.published.timestamp() if isinstance(doc.published, datetime) else math.inf
        return (published, doc.order)

    return sorted(docs, key=key)


def band_keys(values: np.ndarray, config: DedupConfig, band: int | None = None) -> np.ndarray:
    """One 64-bit key per band (or for one band): the band's `rows` hash values folded
    together. Two passages share a band when their keys are equal (a fold collision only
    adds a candidate, which verification then rejects)."""
    bands = range(config.bands) if band is None else [band]
    columns = [b * config.rows for b in bands]
    keys = np.zeros((values.shape[0], len(columns)), dtype=np.uint64)
    for r in range(config.rows):
        keys = (keys * _BAND_MIX) ^ values[:, [c + r for c in columns]].astype(np.uint64)
    return keys


def band_candidates(
    values: np.ndarray, config: DedupConfig, cap: int = _RUN_NEIGHBOURS
) -> tuple[np.ndarray, np.ndarray]:
    """For every row, the earlier rows it shares an LSH band with, as CSR arrays
    (indptr, indices): row j's candidates are indices[indptr[j]:indptr[j + 1]], ascending.

    Rows are in visiting order. In each band a stable sort groups rows with equal keys in
    that order; a row's candidates in the band are the first row of its group (normally the
    first occurrence the others repeat) and the `cap` rows just before it. Bounding the
    group keeps a passage copied ten thousand times from costing a hundred million pairs.
    Keys are made one band at a time: all of them at once would take 8 bytes per band per
    passage (336 MB for a million passages).
    """
    n = values.shape[0]
    firsts, seconds = [], []
    positions = np.arange(n)
    for band in range(config.bands):
        keys = band_keys(values, config, band)[:, 0]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.ones(n, dtype=bool)
        starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
        if starts.all():
            continue
        head = np.maximum.accumulate(np.where(starts, positions, 0))
        member = ~starts
        firsts.append(order[head[member]])
        seconds.append(order[member])
        for back in range(1, cap + 1):
            inside = positions[back:][positions[back:] - back > head[back:]]  # not the head again
            firsts.append(order[inside - back])
            seconds.append(order[inside])
    if not firsts:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    pairs = np.unique(np.concatenate(seconds).astype(np.int64) * n + np.concatenate(firsts))
    later, earlier = pairs // n, pairs % n
    indptr = np.searchsorted(later, np.arange(n + 1))
    return indptr, earlier


class _Index:
    """First occurrences seen so far: exact fingerprints and the signature rows that are
    first occurrences.

    A document's first occurrences are inserted as they are found, so its later passages
    are compared with its earlier ones; if the document turns out to be a duplicate, they
    are removed again.
    """

    def __init__(
        self, sigs: Signatures, config: DedupConfig, n_words: dict[int, int], rows: dict[int, int]
    ) -> None:
        self.n_words = n_words  # id(passage) -> its word count, counted once
        self.rows = rows  # id(passage) -> its signature row, if it may be a near duplicate
        self.exact: dict[int, _Key] = {}
        self.sigs = sigs
        self.indptr, self.indices = band_candidates(sigs.values, config)
        self.key_of_row: dict[int, _Key] = {}  # rows that are first occurrences now
        self.rank: dict[str, int] = {}  # doc_id -> canonical rank, for tie-breaking
        # kept doc -> {position: chars} of its content passages long enough to compare
        self.content: dict[str, dict[int, int]] = {}
        # kept doc -> positions of its passages long enough to be near duplicates
        self.long_positions: dict[str, set[int]] = {}

    def candidates(self, row: int) -> list[int]:
        found = self.indices[self.indptr[row] : self.indptr[row + 1]].tolist()
        return [other for other in found if other in self.key_of_row]

    def insert(self, fp: int, key: _Key, row: int | None) -> None:
        self.exact.setdefault(fp, key)
        if row is not None:
            self.key_of_row[row] = key

    def remove(self, fp: int, key: _Key, row: int | None) -> None:
        if self.exact.get(fp) == key:
            del self.exact[fp]
        if row is not None:
            del self.key_of_row[row]


def deduplicate(docs: list[Document], config: DedupConfig) -> DedupStats:
    """Mark duplicate passages and documents in place."""
    stats = DedupStats()
    clock = time.perf_counter()
    ordered = canonical_order(docs)
    n_words = {id(p): len(words(p.text)) for doc in ordered for p in doc.passages if p.is_content}
    # Every passage that may become a near duplicate, in visiting order, gets a signature row.
    rows: dict[int, int] = {}
    texts: list[str] = []
    for doc in ordered:
        for p in _comparable(doc.passages, config.near_min_words, n_words):
            if p.status is Status.KEPT:
                rows[id(p)] = len(texts)
                texts.append(p.text)
    stats.seconds["prepare"] = time.perf_counter() - clock
    clock = time.perf_counter()
    sigs = Signer(config)(texts)
    stats.seconds["signatures"] = time.perf_counter() - clock
    clock = time.perf_counter()
    index = _Index(sigs, config, n_words, rows)
    stats.seconds["lsh"] = time.perf_counter() - clock
    clock = time.perf_counter()
    for rank, doc in enumerate(ordered):
        index.rank[doc.doc_id] = rank
        firsts = _dedup_passages(doc, index, config, stats)
        if _is_duplicate_document(doc, index, config):
            stats.duplicate_documents[doc.duplicate_kind.value] += 1
            for fp, key, row in firsts:  # a dropped document is nobody's first occurrence
                index.remove(fp, key, row)
        else:
            comparable = _comparable(doc.passages, config.min_words, n_words)
            index.content[doc.doc_id] = {p.position: len(p.text) for p in comparable}
            index.long_positions[doc.doc_id] = {
                p.position for p in comparable if n_words[id(p)] >= config.near_min_words
            }
    # The visit: exact lookups, LSH lookups, verification, first occurrences, documents.
    stats.seconds["visit"] = time.perf_counter() - clock
    return stats


def _dedup_passages(doc: Document, index: _Index, config: DedupConfig, stats: DedupStats):
    """Mark this document's duplicate passages; index and return its first occurrences."""
    firsts = []
    for p in _comparable(doc.passages, config.min_words, index.n_words):
        if p.status is not Status.KEPT:
            continue
        stats.passages_compared += 1
        fp = fingerprint(p.text)
        hit = index.exact.get(fp)
        if hit is not None:
            _mark(p, Status.EXACT_DUPLICATE, hit, 1.0)
            stats.exact_passages += 1
            continue
        row = index.rows.get(id(p))  # None: too short to be a near duplicate
        best, best_sim = None, -1.0
        parts: dict[_Key, float] = {}  # candidates that may hold part of a merged passage
        for other in index.candidates(row) if row is not None else ():
            sim, share, jaccard = _similarity(row, other, index, config)
            stats.candidates_checked += 1
            key = index.key_of_row[other]
            if jaccard >= _MIN_COVER_JACCARD:
                parts[key] = share
            if sim is None:
                stats.candidates_rejected += 1
            elif sim > best_sim or (sim == best_sim and _earlier(key, best, index)):
                best, best_sim = key, sim
        if best is None:
            best, best_sim = _merged(parts, config)
        if best is not None:
            _mark(p, Status.NEAR_DUPLICATE, best, best_sim)
            stats.near_passages += 1
            continue
        key = (doc.doc_id, p.position)
        index.insert(fp, key, row)
        firsts.append((fp, key, row))
    return firsts


def _merged(parts: dict[_Key, float], config: DedupConfig) -> tuple[_Key | None, float]:
    """Two consecutive paragraphs of one document merged into one passage: neither holds it
    alone, together they do. Returns the one holding most of it and the share both hold."""
    best, best_cover = None, -1.0
    for (doc_id, position), share in parts.items():
        following = parts.get((doc_id, position + 1))
        if following is not None and share + following >= config.containment_threshold:
            cover = min(1.0, share + following)
            if cover > best_cover:
                best = (doc_id, position) if share >= following else (doc_id, position + 1)
                best_cover = cover
    return best, best_cover


def _similarity(
    row: int, other: int, index: _Index, config: DedupConfig
) -> tuple[float | None, float, float]:
    """Verify a candidate. Returns (similarity, share, jaccard): the similarity is its
    estimated Jaccard if that reaches the threshold, else the estimated share of this
    passage inside the (larger) candidate if that reaches the containment threshold, else
    None; the share of this passage the candidate holds and the Jaccard come either way."""
    jaccard = index.sigs.jaccard(row, other)
    size, other_size = int(index.sigs.sizes[row]), int(index.sigs.sizes[other])
    share = containment(jaccard, size, other_size)
    if jaccard >= config.threshold:
        return jaccard, share, jaccard
    if other_size > size and share >= config.containment_threshold:
        return share, share, jaccard
    return None, share, jaccard


def _comparable(passages: list[Passage], min_words: int, n_words: dict[int, int]) -> list[Passage]:
    """Content passages long enough to be compared: shorter ones repeat by chance."""
    return [p for p in passages if p.is_content and n_words[id(p)] >= min_words]


def _earlier(key: _Key, other: _Key, index: _Index) -> bool:
    return (index.rank[key[0]], key[1]) < (index.rank[other[0]], other[1])


def _mark(p: Passage, status: Status, key: _Key, similarity: float) -> None:
    p.status = status
    p.duplicate_of_doc, p.duplicate_of_position = key
    p.similarity = round(similarity, 6)


def _is_duplicate_document(doc: Document, index: _Index, config: DedupConfig) -> bool:
    """Decide, and record on the document, whether it repeats earlier documents.

    A page repeating its own paragraph is not copying anyone: such repeats count neither as
    its own text nor as text shared with other documents.
    """
    content = [p for p in doc.passages if p.is_content and p.duplicate_of_doc != doc.doc_id]
    total = sum(len(p.text) for p in content)
    if total == 0:
        return False
    kept = sum(len(p.text) for p in content if p.status is Status.KEPT)
    if kept / total >= config.min_unique_share:
        return False
    weight: dict[str, float] = defaultdict(float)  # target doc -> similarity-weighted chars
    for p in content:
        if p.duplicate_of_doc is not None:
            weight[p.duplicate_of_doc] += len(p.text) * (p.similarity or 0.0)
    target = min(weight, key=lambda d: (-weight[d], index.rank[d]))
    target_content = index.content[target]
    comparable = _comparable(content, config.min_words, index.n_words)
    # The kind is judged on paragraphs: a heading of a few words, added or matched elsewhere,
    # does not make a mirror less exact.
    long = _comparable(content, config.near_min_words, index.n_words)
    target_positions = {p.duplicate_of_position for p in content if p.duplicate_of_doc == target}
    exact = index.long_positions[target] <= target_positions and all(
        p.status is Status.EXACT_DUPLICATE and p.duplicate_of_doc == target for p in long
    )
    length_ratio = sum(len(p.text) for p in comparable) / max(1, sum(target_content.values()))
    if exact:
        kind, similarity = DuplicateKind.EXACT, 1.0
    elif length_ratio < config.contained_max_length_ratio:
        kind, similarity = DuplicateKind.CONTAINED, weight[target] / total
    else:
        kind, similarity = DuplicateKind.NEAR, weight[target] / total
    doc.duplicate_of, doc.duplicate_kind = target, kind
    doc.duplicate_similarity = round(similarity, 6)
    return True
