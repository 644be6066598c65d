"""Passage and document deduplication: the visit that decides every passage's status.

Documents are visited in canonical order: earliest `published` first (undated documents after
dated ones), then input order. The first occurrence of a passage is kept; a later passage of
another document is a duplicate if

- its normalised form hashes like a kept passage's (exact duplicate, similarity 1.0), or
- it shares an LSH band with a kept passage and their Jaccard, checked for every candidate,
  reaches the threshold (near duplicate; it points at the most similar one).

The Jaccard is the signatures' estimate, or, when the texts can be read (`texts`) and the
estimate is too close to a threshold to tell, the exact Jaccard of the two passages' shingle
sets: 128 permutations estimate 0.5 to +-0.044, so without the check a third of pairs with a
true 0.52 would fall under a 0.5 threshold, and as many at 0.48 over it.

A passage repeating an earlier one of its own document is kept: the page's structure (a list,
an interview's questions), not a copy (`dedup.within_documents` compares those too).

A document whose kept text falls under `min_unique_share` of its content is a duplicate
document: it leaves the corpus, pointing at the document it repeats most. Its passages never
become first occurrences, so nothing in the corpus points at text that is not in it.

Dedup reads no text: it works on a `Sketch` (fingerprints, word and character counts,
signatures), made batch by batch as documents are cleaned, and writes its verdicts there.
`deduplicate` does the same for a list of documents in memory.
"""

from __future__ import annotations

import math
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from cleaner.config import DedupConfig
from cleaner.dedup.lsh import band_candidates
from cleaner.dedup.signatures import ShingleSets, Signer, containment
from cleaner.dedup.sketch import BOILERPLATE, EXACT, KEPT, KINDS, NEAR, Prior, Sketch
from cleaner.dedup.store import SignatureStore
from cleaner.document import Document, DuplicateKind
from cleaner.memory import give_back

_Key = tuple[int, int]  # (document index, position) of a kept passage
# Finds LSH candidates: (signatures, config, signature rows in visiting order) -> CSR arrays.
Lsh = Callable[[np.ndarray, DedupConfig, np.ndarray], tuple[np.ndarray, np.ndarray]]
# Reads the texts of signature rows (numbered as the visit does: earlier runs' first), for
# the exact check; None for a text it cannot have. Called once, with every row it needs.
Texts = Callable[[np.ndarray], Sequence[str | None]]
# An estimate within this many standard errors of a threshold that judges the pair is checked
# exactly: a pair at the threshold is estimated farther off once in 370.
_EXACT_SIGMAS = 3.0
_ESTIMATE_CHUNK = 1 << 15  # candidate pairs compared at once: 2 x 2 MB of a block's columns
_ESTIMATE_COLUMNS = 32  # signature columns read at once: 128 bytes a passage (128 MB at a million)
_SHINGLE_CHUNK = 8192  # passages shingled at once for the exact check
# A candidate counts as part of a merged passage only if its own estimated Jaccard reaches
# this: a containment derived from a small Jaccard against a much longer passage is mostly
# estimation noise, and summing noise manufactures copies (measured on benchmarks/quality:
# 1,932 false duplicates with a share-only rule, 49 when any two candidates could combine).
_MIN_COVER_JACCARD = 0.3


@dataclass
class DedupStats:
    passages_compared: int = 0
    exact_passages: int = 0
    near_passages: int = 0
    candidates_checked: int = 0
    candidates_rejected: int = 0
    exact_checks: int = 0  # candidates checked whose Jaccard was computed on their shingles
    duplicate_documents: Counter = field(default_factory=Counter)  # kind -> count
    seconds: dict[str, float] = field(default_factory=dict)  # time per step, over every walk
    # The walk runs once more when a duplicate document took the first occurrence of a text
    # that later passages copy (`deduplicate_sketch`); the counts above are the last walk's.
    walks: int = 1

    def as_dict(self) -> dict:
        return {
            "passages_compared": self.passages_compared,
            "exact_passages": self.exact_passages,
            "near_passages": self.near_passages,
            "lsh_candidates_checked": self.candidates_checked,
            "lsh_candidates_rejected": self.candidates_rejected,
            "exact_checks": self.exact_checks,
            "duplicate_documents": dict(sorted(self.duplicate_documents.items())),
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
            "walks": self.walks,
        }


def texts_of(docs: Sequence[Document], sketch: Sketch) -> Texts:
    """The `Texts` of documents in memory, sketched as `sketch`."""
    passages = [p for doc in docs for p in doc.passages]
    return lambda rows: [passages[k].text for k in sketch.signed_passages(rows).tolist()]


def joined_texts(held: int, earlier: Texts, current: Texts) -> Texts:
    """The `Texts` of a visit over `held` signature rows of earlier runs (read by `earlier`)
    and then this run's (read by `current`, numbered from 0)."""

    def texts(rows: np.ndarray) -> list[str | None]:
        old = rows < held
        out: list[str | None] = [None] * len(rows)
        for where, found in (
            (np.flatnonzero(old), earlier(rows[old]) if old.any() else []),
            (np.flatnonzero(~old), current(rows[~old] - held) if not old.all() else []),
        ):
            for i, text in zip(where.tolist(), found, strict=True):
                out[i] = text
        return out

    return texts


def deduplicate(docs: list[Document], config: DedupConfig) -> DedupStats:
    """Mark duplicate passages and documents of documents in memory, in place."""
    clock = time.perf_counter()
    sketch = Sketch.of(docs, config)
    signing = time.perf_counter() - clock
    stats = deduplicate_sketch(sketch, config, texts=texts_of(docs, sketch))
    sketch.apply(docs)
    stats.seconds = {"signatures": signing, **stats.seconds}
    return stats


def deduplicate_sketch(
    sketch: Sketch,
    config: DedupConfig,
    prior: Prior | None = None,
    lsh: Lsh | None = None,
    texts: Texts | None = None,
    threads: int = 1,
) -> DedupStats:
    """Record duplicate passages and documents in the sketch's verdicts. `prior` holds the
    documents of earlier runs the sketch may repeat (`cleaner.corpus.index`): they count as kept
    and come before every document of this run. `lsh` finds the candidates (default
    `band_candidates`, here); a run passes one that spreads the bands over threads or a
    cluster's workers. `texts` reads passages for the exact check; without it every Jaccard
    is estimated. The estimates are counted on up to `threads` threads."""
    prior = prior or Prior()
    unsettled: set[int] = set()
    seconds: Counter = Counter()
    walks = 0
    while True:
        walks += 1
        stats = DedupStats()
        clock = time.perf_counter()
        visit = _Visit(sketch, config, prior)
        # An exact copy of an earlier passage is settled by its fingerprint: it never needs
        # candidates, so only the first of each fingerprint enters LSH (5,000 copies of an
        # article no longer make 500,000 rows of it).
        searched = visit.search_positions(unsettled)
        seconds["prepare"] += time.perf_counter() - clock
        clock = time.perf_counter()
        found = (lsh or band_candidates)(visit.values, config, visit.signature_rows[searched])
        visit.indptr, visit.indices = _spread(found, searched, len(visit.signature_rows))
        del found
        give_back()  # what LSH's threads freed
        seconds["lsh"] += time.perf_counter() - clock
        clock = time.perf_counter()
        visit.estimate(threads)
        give_back()
        if texts is not None:
            visit.check_exactly(texts)
        seconds["verify"] += time.perf_counter() - clock
        clock = time.perf_counter()
        visit.run(stats)
        # The visit: exact lookups, candidates' verdicts, first occurrences, documents.
        seconds["visit"] += time.perf_counter() - clock
        if not visit.unsettled:
            break
        # A copy whose first occurrence left with its document (a duplicate document) is a
        # first occurrence itself and needs its candidates after all: once more, with them.
        unsettled |= visit.unsettled
    stats.seconds, stats.walks = dict(seconds), walks
    visit.write_back()
    return stats


def _spread(
    found: tuple[np.ndarray, np.ndarray], searched: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """CSR candidates over the `searched` visiting positions, as CSR over all n of them
    (none for the others)."""
    indptr, indices = found
    counts = np.zeros(n, dtype=np.int64)
    counts[searched] = np.diff(indptr)
    return np.concatenate(([0], np.cumsum(counts))), searched[indices]


class _Visit:
    """The walk over documents in canonical order, with the first occurrences seen so far:
    exact fingerprints and the signature rows that are first occurrences.

    A document's first occurrences are inserted as they are found, so its later passages
    are compared with its earlier ones; if the document turns out to be a duplicate, they
    are removed again. The sketch's per-passage arrays are read and written as `array`s
    here (`_compact`): the walk touches one element at a time, which numpy does several
    times slower.
    """

    def __init__(self, sketch: Sketch, config: DedupConfig, prior: Prior) -> None:
        self.sketch, self.config = sketch, config
        self.order = sketch.visiting_order().tolist()
        rank = np.full(sketch.n_docs, -1, dtype=np.int64)
        rank[self.order] = np.arange(len(self.order))
        self.visited = rank >= 0  # per document: not excluded
        # Documents of earlier runs are numbered after this run's and rank before them all.
        self.rank = rank.tolist() + list(range(-len(prior.doc_ids), 0))
        self.prior_all_fingerprints = prior.fingerprints
        sketch.prior_ids = list(prior.doc_ids)
        self.starts = sketch.starts.tolist()
        self.status = _compact(sketch.status, "B")
        self.fps = _compact(sketch.fingerprints, "Q")
        self.n_words = _compact(sketch.n_words, "i")
        self.chars = _compact(sketch.chars, "i")
        self.dup_doc = _compact(sketch.dup_doc, "i")
        self.dup_position = _compact(sketch.dup_position, "i")
        self.similarity = _compact(sketch.similarity, "d")
        # Passages that may be near duplicates, in visiting order, and their signature rows.
        self.doc_of = doc_of = sketch.doc_of  # per passage: its document (int32)
        near = (
            (sketch.status != BOILERPLATE)
            & (sketch.n_words >= config.near_min_words)
            & (sketch.rows >= 0)
            & (rank[doc_of] >= 0)
        )
        passages = np.flatnonzero(near)
        passages = passages[np.argsort(rank[doc_of[passages]], kind="stable")]
        # Signature rows in visiting order: the earlier runs' first, then this run's.
        held = 0 if prior.values is None else len(prior.values)
        self.values = SignatureStore.of(sketch.values)
        if held:
            self.values = SignatureStore.of(prior.values).then(self.values)
        self.sizes = sketch.sizes if not held else np.concatenate([prior.sizes, sketch.sizes])
        self.signature_rows = np.concatenate([np.arange(held), held + sketch.rows[passages]]).astype(np.int64)
        self.signed_order = passages  # this run's signed passages, in visiting order
        self.held = held  # earlier runs' signature rows, visited first
        signed = np.flatnonzero(prior.rows >= 0)
        self.prior_fingerprints = prior.fingerprints[signed[np.argsort(prior.rows[signed])]]
        self.settled = np.zeros(len(self.signature_rows), dtype=bool)
        self.first_of = np.arange(len(self.signature_rows))
        self.unsettled: set[int] = set()  # settled fingerprints the visit found unsettled
        position = np.full(sketch.n_passages, -1, dtype=np.int64)
        position[passages] = held + np.arange(len(passages))
        self.visit_position = _compact(position, "q")  # passage -> its place among signed passages
        self.indptr = self.indices = None
        self.jaccards: np.ndarray | None = None  # of every candidate pair, as `indices`
        self.checked: np.ndarray | None = None  # whether that Jaccard is exact, as `indices`
        self.exact: dict[int, _Key] = {}
        self.key_of: dict[int, _Key] = {}  # visiting positions that are first occurrences now
        self.plain: list[bool] = []  # per document: kept with nothing to decide (`run`)
        self.plain_position = bytearray()  # per visiting position: of a plain document
        # An earlier run's document -> characters of its content passages long enough to
        # compare; and the fingerprints of those long enough to be near duplicates, for
        # documents that have any. This run's documents' are read off the sketch when a
        # duplicate needs them (`_content_chars`, `_long_fingerprints`): kept for every document,
        # a million one-line records cost 300 MB.
        self.content_chars = array("q", bytes(8 * (sketch.n_docs + len(prior.doc_ids))))
        self.long_fingerprints: dict[int, frozenset[int]] = {}
        self._seed(prior)

    def search_positions(self, unsettled: set[int]) -> np.ndarray:
        """The visiting positions LSH must find candidates for: each fingerprint's first
        signed passage in visiting order, and every passage of the `unsettled` fingerprints."""
        held = self.held
        fps = np.concatenate([self.prior_fingerprints, self.sketch.fingerprints[self.signed_order]])
        order = np.argsort(fps, kind="stable")
        first = np.ones(len(fps), dtype=bool)
        first[order[1:]] = fps[order[1:]] != fps[order[:-1]]
        # The first visiting position of each position's fingerprint.
        group_first = order[np.maximum.accumulate(np.where(first[order], np.arange(len(order)), 0))]
        self.first_of = np.empty(len(fps), dtype=np.int64)
        self.first_of[order] = group_first
        self.settled = ~first
        self.settled[:held] = False  # the earlier runs' rows are first occurrences already
        if unsettled:
            self.settled &= ~np.isin(fps, np.fromiter(unsettled, dtype=np.uint64, count=len(unsettled)))
        return np.flatnonzero(~self.settled)

    def _seed(self, prior: Prior) -> None:
        """Enter the earlier runs' documents as kept, and their first occurrences."""
        n = self.sketch.n_docs
        long: defaultdict[int, set[int]] = defaultdict(set)
        for doc, position, fp, n_words, chars, first, row in zip(
            prior.doc.tolist(),
            prior.position.tolist(),
            prior.fingerprints.tolist(),
            prior.n_words.tolist(),
            prior.chars.tolist(),
            prior.first.tolist(),
            prior.rows.tolist(),
            strict=True,
        ):
            d = n + doc
            self.content_chars[d] += chars
            if n_words >= self.config.near_min_words:
                long[d].add(fp)
            if first:
                self.exact.setdefault(fp, (d, position))
                if row >= 0:
                    self.key_of[row] = (d, position)  # prior rows are visited first, in order
        self.long_fingerprints.update((d, frozenset(fps)) for d, fps in long.items())

    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every candidate pair, as `indices`: the later passage's visiting position, and the
        signature rows of the later passage and of the earlier one."""
        later = np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))
        return later, self.signature_rows[later], self.signature_rows[self.indices]

    def estimate(self, threads: int = 1) -> None:
        """Every candidate pair's estimated Jaccard: the share of equal signature values,
        counted a block of columns at a time (the signatures stay in their files), a chunk
        of pairs per thread (numpy gathers and compares without the interpreter's lock: a
        million records' 2.4 million pairs took 1.6 s on one thread, 0.9 s on two)."""
        values = self.values
        _, rows, other_rows = self._pairs()
        equal = np.zeros(len(rows), dtype=np.int64)

        def count(block: np.ndarray, s: int) -> None:
            e = s + _ESTIMATE_CHUNK
            equal[s:e] += np.count_nonzero(block[rows[s:e]] == block[other_rows[s:e]], axis=1)

        with ThreadPoolExecutor(max(1, threads), thread_name_prefix="estimate") as pool:
            for start in range(0, values.width if len(rows) else 0, _ESTIMATE_COLUMNS):
                block = np.ascontiguousarray(
                    values.columns(start, min(start + _ESTIMATE_COLUMNS, values.width))
                )
                list(pool.map(partial(count, block), range(0, len(rows), _ESTIMATE_CHUNK)))
        self.jaccards = equal / values.width

    def check_exactly(self, texts: Texts) -> None:
        """Replace the estimates too close to a threshold to tell by the exact Jaccard of the
        two passages' shingle sets (of every candidate pair: which ones the visit reaches
        depends on its earlier verdicts). A pair keeps its estimate if a text is missing or
        no longer gives the shingles its signature counted."""
        _, rows, other_rows = self._pairs()
        self.checked = np.zeros(len(rows), dtype=bool)
        picked = np.flatnonzero(
            _undecided(self.jaccards, self.sizes[rows], self.sizes[other_rows], self.config)
        )
        if not len(picked):
            return
        needed, where = np.unique(np.concatenate([rows[picked], other_rows[picked]]), return_inverse=True)
        found = list(texts(needed))
        usable = np.array([t is not None for t in found], dtype=bool)
        signer = Signer(self.config)
        # Shingled a slice at a time, dropping each slice's texts: the temporaries of a
        # whole million-passage run's checks took 150 MB.
        parts = []
        for s in range(0, len(found), _SHINGLE_CHUNK):
            parts.append(signer.shingle_sets([t or "" for t in found[s : s + _SHINGLE_CHUNK]]))
            found[s : s + _SHINGLE_CHUNK] = [None] * len(parts[-1].sizes)
        sets = ShingleSets.concat(parts)
        usable &= sets.sizes == self.sizes[needed]  # else the text is not what was signed
        a, b = where[: len(picked)], where[len(picked) :]
        ok = usable[a] & usable[b]
        self.jaccards[picked[ok]] = sets.jaccards(a[ok], b[ok])
        self.checked[picked[ok]] = True

    def run(self, stats: DedupStats) -> None:
        sketch = self.sketch
        plain = self._plain_documents()
        # A plain document's passages are first occurrences from the start and stay so: they
        # are not entered in `exact` (no other passage has their fingerprints) nor `key_of`
        # (`_candidates`, `_key` and `_verdict_of_first` ask `plain`), which for a million
        # one-line records took 250 MB.
        self.plain = plain.tolist()
        at = np.zeros(len(self.signature_rows), dtype=bool)
        at[self.held + np.flatnonzero(plain[self.doc_of[self.signed_order]])] = True
        self.plain_position = bytearray(at.tobytes())
        for d in self.order:
            if plain[d]:  # kept, its passages first occurrences: nothing to decide
                continue
            firsts = self._passages(d, stats)
            if self._is_duplicate_document(d):
                stats.duplicate_documents[KINDS[sketch.doc_kind[d]].value] += 1
                for fp, key, v in firsts:  # a dropped document is nobody's first occurrence
                    if self.exact.get(fp) == key:
                        del self.exact[fp]
                    if v >= 0:
                        del self.key_of[v]
        self._count_plain(plain, stats)

    def _plain_documents(self) -> np.ndarray:
        """Per document, whether the walk has nothing to decide for it: every passage it
        compares is kept, has a fingerprint no other passage (of the run or the corpus) has,
        and no candidate whose Jaccard or containment could make it a duplicate or part of a
        merged one (see `_similarity` and `_merged`). Such a document is kept whatever comes
        before it, and its passages are first occurrences: most documents of a large run,
        which the walk then passes over (a million one-paragraph records: 13 s -> 0.3 s)."""
        sketch, config = self.sketch, self.config
        doc_of = self.doc_of
        comparable = self._compared()
        fps = np.concatenate([sketch.fingerprints[comparable], self.prior_all_fingerprints])
        order = np.argsort(fps, kind="stable")
        ordered = fps[order]
        repeated = np.zeros(len(fps), dtype=bool)
        same = ordered[1:] == ordered[:-1]
        repeated[order[1:][same]] = True
        repeated[order[:-1][same]] = True
        busy = comparable.copy()
        busy[comparable] = (sketch.status[comparable] != KEPT) | repeated[: int(comparable.sum())]
        later, rows, other_rows = self._pairs()
        size, other_size = self.sizes[rows].astype(np.float64), self.sizes[other_rows].astype(np.float64)
        j = self.jaccards
        share = np.minimum(1.0, j * (size + other_size) / np.maximum((1.0 + j) * size, 1e-12))
        relevant = (
            (j >= config.threshold)
            | (j >= _MIN_COVER_JACCARD)
            | ((other_size > size) & (size > 0) & (share >= config.containment_threshold))
        )
        undecided = np.zeros(len(self.signature_rows), dtype=bool)
        undecided[later[relevant]] = True
        undecided |= self.settled
        busy[self.signed_order[undecided[self.held :]]] = True
        return np.bincount(doc_of[busy], minlength=sketch.n_docs) == 0

    def _compared(self) -> np.ndarray:
        """Per passage, whether the walk compares it: content long enough (`_comparable`),
        of a document it visits."""
        sketch = self.sketch
        return (
            (sketch.status != BOILERPLATE)
            & (sketch.n_words >= self.config.min_words)
            & self.visited[self.doc_of]
        )

    def _count_plain(self, plain: np.ndarray, stats: DedupStats) -> None:
        """Count the plain documents' passages and candidates in `stats` as the walk would
        have: each compared passage, and each candidate that is a first occurrence (of
        another document, unless `within_documents`), checked and rejected. A candidate
        comes earlier in visiting order, so whether it is a first occurrence was settled
        before the plain passage's turn and is what `key_of` holds now."""
        config, doc_of = self.config, self.doc_of
        stats.passages_compared += int((self._compared() & plain[doc_of]).sum())
        first = np.frombuffer(self.plain_position, dtype=bool).copy()
        v = np.flatnonzero(first)  # the plain documents' visiting positions
        if not len(v):
            return
        positions = self.signed_order[v - self.held]
        first[np.fromiter(self.key_of, dtype=np.int64, count=len(self.key_of))] = True
        counts = np.diff(self.indptr)[v]
        pairs = np.repeat(np.arange(len(v)), counts)  # each candidate's plain passage
        spans = self.indptr[v][pairs] + np.arange(len(pairs)) - (np.cumsum(counts) - counts)[pairs]
        others = self.indices[spans]
        take = first[others]
        if not config.within_documents:
            other_doc = np.full(len(others), -1, dtype=np.int64)
            mine = others >= self.held
            other_doc[mine] = doc_of[self.signed_order[others[mine] - self.held]]
            take &= other_doc != doc_of[positions[pairs]]
        stats.candidates_checked += int(take.sum())
        stats.candidates_rejected += int(take.sum())
        if self.checked is not None:
            stats.exact_checks += int((take & self.checked[spans]).sum())

    def write_back(self) -> None:
        sketch = self.sketch
        sketch.status = np.frombuffer(self.status, dtype=np.uint8).copy()
        sketch.dup_doc = np.frombuffer(self.dup_doc, dtype=np.int32).copy()
        sketch.dup_position = np.frombuffer(self.dup_position, dtype=np.int32).copy()
        sketch.similarity = np.frombuffer(self.similarity, dtype=np.float64).copy()

    def _comparable(self, d: int, min_words: int) -> list[int]:
        """Content passages long enough to be compared: shorter ones repeat by chance."""
        status, n_words = self.status, self.n_words
        return [
            k
            for k in range(self.starts[d], self.starts[d + 1])
            if status[k] != BOILERPLATE and n_words[k] >= min_words
        ]

    def _passages(self, d: int, stats: DedupStats) -> list[tuple[int, _Key, int]]:
        """Mark this document's duplicate passages; index and return its first occurrences."""
        firsts = []
        start = self.starts[d]
        within = self.config.within_documents
        for k in self._comparable(d, self.config.min_words):
            if self.status[k] != KEPT:
                continue
            stats.passages_compared += 1
            fp = self.fps[k]
            hit = self.exact.get(fp)
            if hit is not None and hit[0] == d and not within:
                continue  # a repeat inside the page: its structure, kept and not indexed again
            if hit is not None:
                self._mark(k, EXACT, hit, 1.0)
                stats.exact_passages += 1
                continue
            v = self.visit_position[k]  # -1: too short to be a near duplicate
            if v >= 0 and self.settled[v]:  # a copy, and no first occurrence of its text now
                copied = self._verdict_of_first(v, d)
                if copied is not None:  # the same text repeats the same passage, as much
                    self._mark(k, NEAR, *copied)
                    stats.near_passages += 1
                    continue
                self.unsettled.add(fp)  # its first occurrence left with its document
            best, best_sim = None, -1.0
            parts: dict[_Key, float] = {}  # candidates that may hold part of a merged passage
            for other, jaccard, exact in self._candidates(v) if v >= 0 else ():
                key = self._key(other)
                if key[0] == d and not within:
                    continue
                sim, share, jaccard = self._similarity(v, other, jaccard)
                stats.candidates_checked += 1
                stats.exact_checks += exact
                if jaccard >= _MIN_COVER_JACCARD:
                    parts[key] = share
                if sim is None:
                    stats.candidates_rejected += 1
                elif sim > best_sim or (sim == best_sim and self._earlier(key, best)):
                    best, best_sim = key, sim
            if best is None:
                best, best_sim = _merged(parts, self.config)
            if best is not None:
                self._mark(k, NEAR, best, best_sim)
                stats.near_passages += 1
                continue
            key = (d, k - start)
            self.exact.setdefault(fp, key)
            if v >= 0:
                self.key_of[v] = key
            firsts.append((fp, key, v))
        stats.exact_passages -= self._unmark_lone_short(d)
        return firsts

    def _unmark_lone_short(self, d: int) -> int:
        """Keep the short passages (under `near_min_words`) marked as exact duplicates only
        where they sit in a copied run: next to a long passage that repeats the same
        document, directly or through other such short ones. A heading of a few words that
        two unrelated pages share ("Frequently Asked Questions") is chance, not a copy; the
        subheadings of a mirror sit between its copied paragraphs. Returns how many it unmarks."""
        status, n_words, dup_doc = self.status, self.n_words, self.dup_doc
        content = [k for k in range(self.starts[d], self.starts[d + 1]) if status[k] != BOILERPLATE]
        short = [status[k] == EXACT and n_words[k] < self.config.near_min_words for k in content]
        if not any(short):
            return 0
        anchored = [status[k] in (EXACT, NEAR) and not s for k, s in zip(content, short, strict=True)]
        for order in (range(len(content)), range(len(content) - 1, -1, -1)):
            previous = None
            for i in order:
                k = content[i]
                if (
                    short[i]
                    and previous is not None
                    and anchored[previous]
                    and dup_doc[content[previous]] == dup_doc[k]
                ):
                    anchored[i] = True
                previous = i
        unmarked = 0
        for i, k in enumerate(content):
            if short[i] and not anchored[i]:
                status[k], dup_doc[k], self.dup_position[k], self.similarity[k] = KEPT, -1, -1, math.nan
                unmarked += 1
        return unmarked

    def _verdict_of_first(self, v: int, d: int) -> tuple[_Key, float] | None:
        """For a settled copy with no first occurrence of its text: the near-duplicate verdict
        of the passage it copies (its fingerprint's first signed passage), when that one was
        found to repeat a passage that is still a first occurrence, in another document."""
        k = int(self.signed_order[self.first_of[v] - self.held])
        if self.status[k] != NEAR:
            return None
        target = (self.dup_doc[k], self.dup_position[k])
        if target[0] == d and not self.config.within_documents:
            return None
        this_run = target[0] < self.sketch.n_docs  # then: is it still a first occurrence?
        if (
            this_run
            and not self.plain[target[0]]
            and self.exact.get(self.fps[self.starts[target[0]] + target[1]]) != target
        ):
            return None
        return target, self.similarity[k]

    def _candidates(self, v: int) -> list[tuple[int, float, bool]]:
        """The candidates of visiting position v that are first occurrences now, with the
        pair's Jaccard and whether it is exact."""
        span = slice(self.indptr[v], self.indptr[v + 1])
        exact = (
            self.checked[span].tolist() if self.checked is not None else [False] * (span.stop - span.start)
        )
        found = zip(self.indices[span].tolist(), self.jaccards[span].tolist(), exact, strict=True)
        return [c for c in found if c[0] in self.key_of or self.plain_position[c[0]]]

    def _key(self, v: int) -> _Key:
        """The (document, position) of visiting position v, a first occurrence."""
        key = self.key_of.get(v)
        if key is None:  # a plain document's passage
            k = int(self.signed_order[v - self.held])
            d = int(self.doc_of[k])
            key = (d, k - self.starts[d])
        return key

    def _similarity(self, v: int, other: int, jaccard: float) -> tuple[float | None, float, float]:
        """Verify a candidate. Returns (similarity, share, jaccard): the similarity is its
        Jaccard if that reaches the threshold, else the share of this passage inside the
        (larger) candidate if that reaches the containment threshold, else None; the share
        of this passage the candidate holds and the Jaccard come either way."""
        config = self.config
        row, other_row = self.signature_rows[v], self.signature_rows[other]
        size, other_size = int(self.sizes[row]), int(self.sizes[other_row])
        share = containment(jaccard, size, other_size)
        if jaccard >= config.threshold:
            return jaccard, share, jaccard
        if other_size > size and share >= config.containment_threshold:
            return share, share, jaccard
        return None, share, jaccard

    def _earlier(self, key: _Key, other: _Key) -> bool:
        return (self.rank[key[0]], key[1]) < (self.rank[other[0]], other[1])

    def _mark(self, k: int, status: int, key: _Key, similarity: float) -> None:
        self.status[k] = status
        self.dup_doc[k], self.dup_position[k] = key
        self.similarity[k] = round(similarity, 6)

    def _content_chars(self, d: int) -> int:
        """Characters of a kept document's passages long enough to compare (which passages
        those are never changes during the walk)."""
        if d >= self.sketch.n_docs:
            return self.content_chars[d]
        return sum(self.chars[k] for k in self._comparable(d, self.config.min_words))

    def _long_fingerprints(self, d: int) -> frozenset[int]:
        """Fingerprints of a kept document's passages long enough to be near duplicates."""
        if d >= self.sketch.n_docs:
            return self.long_fingerprints.get(d, frozenset())
        fps, near_min = self.sketch.fingerprints, self.config.near_min_words
        return frozenset(
            int(fps[k]) for k in self._comparable(d, self.config.min_words) if self.n_words[k] >= near_min
        )

    def _is_duplicate_document(self, d: int) -> bool:
        """Decide, and record in the sketch, whether document d repeats earlier documents.

        A page repeating its own paragraph is not copying anyone: such repeats count neither
        as its own text nor as text shared with other documents.
        """
        config, status, chars, dup_doc = self.config, self.status, self.chars, self.dup_doc
        content = [
            k
            for k in range(self.starts[d], self.starts[d + 1])
            if status[k] != BOILERPLATE and dup_doc[k] != d
        ]
        total = sum(chars[k] for k in content)
        if total == 0:
            return False
        kept = sum(chars[k] for k in content if status[k] == KEPT)
        if kept / total >= config.min_unique_share:
            return False
        weight: dict[int, float] = defaultdict(float)  # target doc -> similarity-weighted chars
        for k in content:
            if dup_doc[k] >= 0:
                weight[dup_doc[k]] += chars[k] * self.similarity[k]
        target = min(weight, key=lambda t: (-weight[t], self.rank[t]))
        comparable = [k for k in content if self.n_words[k] >= config.min_words]
        # The kind is judged on paragraphs: a heading of a few words, added or matched
        # elsewhere, does not make a mirror less exact.
        # Exact: its paragraphs are the target's, each an exact duplicate (of the target's, or
        # of whichever document the target's own copy repeats). Compared by fingerprint: by
        # position, a byte-identical mirror of a page that repeats one of its paragraphs, or
        # quotes another page's, was a `near` duplicate of similarity 1.0.
        long = [k for k in content if self.n_words[k] >= config.near_min_words]
        fingerprints = self.sketch.fingerprints
        exact = all(status[k] == EXACT for k in long) and {
            int(fingerprints[k]) for k in long
        } == self._long_fingerprints(target)
        length_ratio = sum(chars[k] for k in comparable) / max(1, self._content_chars(target))
        if exact:
            kind, similarity = DuplicateKind.EXACT, 1.0
        elif length_ratio < config.contained_max_length_ratio:
            kind, similarity = DuplicateKind.CONTAINED, weight[target] / total
        else:
            kind, similarity = DuplicateKind.NEAR, weight[target] / total
        sketch = self.sketch
        sketch.doc_dup_of[d], sketch.doc_kind[d] = target, KINDS.index(kind)
        sketch.doc_similarity[d] = round(similarity, 6)
        return True


def _compact(values: np.ndarray, code: str) -> array:
    """A per-passage column for the walk, which reads and writes one element at a time: an
    `array` is about as quick at that as a list, at 1 to 8 bytes an element where a list
    of numbers costs a pointer and an object (32 to 44 bytes)."""
    out = array(code)
    out.frombytes(np.ascontiguousarray(values, dtype=np.dtype(code)).tobytes())
    return out


def _undecided(
    jaccard: np.ndarray, size: np.ndarray, other_size: np.ndarray, config: DedupConfig
) -> np.ndarray:
    """The estimates within `_EXACT_SIGMAS` standard errors of a Jaccard where the verdict
    changes: the threshold, or, against a larger passage, the Jaccard at which the share of
    this passage inside it (`containment`) reaches the containment threshold."""

    def near(at: np.ndarray | float) -> np.ndarray:
        return np.abs(jaccard - at) < _EXACT_SIGMAS * np.sqrt(at * (1.0 - at) / config.num_perm)

    c = config.containment_threshold
    # share = J (a + b) / ((1 + J) a) = c  <=>  J = c a / (a + b - c a)
    contained_at = np.clip(c * size / np.maximum(size + other_size - c * size, 1e-9), 0.0, 1.0)
    return near(config.threshold) | ((other_size > size) & near(contained_at))


def _merged(parts: dict[_Key, float], config: DedupConfig) -> tuple[_Key | None, float]:
    """Two consecutive paragraphs of one document merged into one passage: neither holds it
    alone, together they do. Returns the one holding most of it and the share both hold."""
    best, best_cover = None, -1.0
    for (doc, position), share in parts.items():
        following = parts.get((doc, position + 1))
        if following is not None and share + following >= config.containment_threshold:
            cover = min(1.0, share + following)
            if cover > best_cover:
                best = (doc, position) if share >= following else (doc, position + 1)
                best_cover = cover
    return best, best_cover
