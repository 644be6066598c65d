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
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from datasketch import LeanMinHash, MinHashLSH

from cleaner.config import DedupConfig
from cleaner.document import Document, DuplicateKind, Passage, Status
from cleaner.signatures import containment, shingles, signatures_of_sets
from cleaner.text import fingerprint, words

_Key = tuple[str, int]  # (doc_id, position) of a kept passage


@dataclass
class DedupStats:
    passages_compared: int = 0
    exact_passages: int = 0
    near_passages: int = 0
    candidates_checked: int = 0
    candidates_rejected: int = 0
    duplicate_documents: Counter = field(default_factory=Counter)  # kind -> count

    def as_dict(self) -> dict:
        return {
            "passages_compared": self.passages_compared,
            "exact_passages": self.exact_passages,
            "near_passages": self.near_passages,
            "lsh_candidates_checked": self.candidates_checked,
            "lsh_candidates_rejected": self.candidates_rejected,
            "duplicate_documents": dict(sorted(self.duplicate_documents.items())),
        }


def canonical_order(docs: list[Document]) -> list[Document]:
    """Earliest published first, undated last, then input order: who counts as first."""

    def key(doc: Document) -> tuple:
        published = doc.published.timestamp() if isinstance(doc.published, datetime) else math.inf
        return (published, doc.order)

    return sorted(docs, key=key)


class _Index:
    """First occurrences seen so far: exact fingerprints, LSH bands and signatures.

    A document's first occurrences are inserted as they are found, so its later passages
    are compared with its earlier ones through the same index; if the document turns out
    to be a duplicate, they are removed again.
    """

    def __init__(self, config: DedupConfig) -> None:
        self.exact: dict[int, _Key] = {}
        self.lsh = MinHashLSH(
            threshold=config.threshold,
            num_perm=config.num_perm,
            params=(config.bands, config.rows),
        )
        self.signatures: dict[_Key, LeanMinHash] = {}
        self.sizes: dict[_Key, int] = {}  # shingle-set size, for containment
        self.rank: dict[str, int] = {}  # doc_id -> canonical rank, for tie-breaking
        # kept doc -> {position: chars} of its content passages long enough to compare
        self.content: dict[str, dict[int, int]] = {}
        # kept doc -> {position: is it long enough to be a near duplicate}
        self.long_passages: dict[str, dict[int, bool]] = {}

    def insert(self, fp: int, key: _Key, sig: LeanMinHash, size: int) -> None:
        self.exact.setdefault(fp, key)
        self.signatures[key] = sig
        self.sizes[key] = size
        self.lsh.insert(key, sig, check_duplication=False)

    def remove(self, fp: int, key: _Key) -> None:
        if self.exact.get(fp) == key:
            del self.exact[fp]
        del self.signatures[key]
        del self.sizes[key]
        self.lsh.remove(key)


def deduplicate(docs: list[Document], config: DedupConfig) -> DedupStats:
    """Mark duplicate passages and documents in place."""
    stats = DedupStats()
    index = _Index(config)
    for rank, doc in enumerate(canonical_order(docs)):
        index.rank[doc.doc_id] = rank
        firsts = _dedup_passages(doc, index, config, stats)
        if _is_duplicate_document(doc, index, config):
            stats.duplicate_documents[doc.duplicate_kind.value] += 1
            for fp, key in firsts:  # a dropped document is nobody's first occurrence
                index.remove(fp, key)
        else:
            comparable = _comparable(doc.passages, config.min_words)
            index.content[doc.doc_id] = {p.position: len(p.text) for p in comparable}
            index.long_passages[doc.doc_id] = {
                p.position: len(words(p.text)) >= config.near_min_words for p in comparable
            }
    return stats


def _dedup_passages(doc: Document, index: _Index, config: DedupConfig, stats: DedupStats):
    """Mark this document's duplicate passages; index and return its first occurrences."""
    eligible = [p for p in _comparable(doc.passages, config.min_words) if p.status is Status.KEPT]
    if not eligible:
        return []
    stats.passages_compared += len(eligible)
    sets = [shingles(p.text, config) for p in eligible]
    sigs = signatures_of_sets(sets, config)
    firsts = []
    for p, sig, size in zip(eligible, sigs, map(len, sets), strict=True):
        fp = fingerprint(p.text)
        hit = index.exact.get(fp)
        if hit is not None:
            _mark(p, Status.EXACT_DUPLICATE, hit, 1.0)
            stats.exact_passages += 1
            continue
        best, best_sim = None, -1.0
        near = len(words(p.text)) >= config.near_min_words
        for key in index.lsh.query(sig) if near else ():
            sim = _similarity(sig, size, key, index, config)
            stats.candidates_checked += 1
            if sim is None:
                stats.candidates_rejected += 1
            elif sim > best_sim or (sim == best_sim and _earlier(key, best, index)):
                best, best_sim = key, sim
        if best is not None:
            _mark(p, Status.NEAR_DUPLICATE, best, best_sim)
            stats.near_passages += 1
            continue
        key = (doc.doc_id, p.position)
        index.insert(fp, key, sig, size)
        firsts.append((fp, key))
    return firsts


def _similarity(sig: LeanMinHash, size: int, key: _Key, index: _Index, config: DedupConfig) -> float | None:
    """Verify a candidate: its estimated Jaccard if it reaches the threshold, else the
    estimated share of this passage inside the (larger) candidate if that reaches the
    containment threshold, else None."""
    jaccard = sig.jaccard(index.signatures[key])
    if jaccard >= config.threshold:
        return jaccard
    other = index.sizes[key]
    if other > size and containment(jaccard, size, other) >= config.containment_threshold:
        return containment(jaccard, size, other)
    return None


def _comparable(passages: list[Passage], min_words: int) -> list[Passage]:
    """Content passages long enough to be compared: shorter ones repeat by chance."""
    return [p for p in passages if p.is_content and len(words(p.text)) >= min_words]


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
    comparable = _comparable(content, config.min_words)
    # The kind is judged on paragraphs: a heading of a few words, added or matched elsewhere,
    # does not make a mirror less exact.
    long = _comparable(content, config.near_min_words)
    target_long = {pos for pos, n in index.long_passages[target].items() if n}
    target_positions = {p.duplicate_of_position for p in content if p.duplicate_of_doc == target}
    exact = target_long <= target_positions and all(
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
