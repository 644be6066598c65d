"""Rewritten copies: documents that restate an earlier one paragraph after paragraph.

A content farm rewrites a wire story sentence by sentence, so no word 3-gram survives and
MinHash sees an original; meanwhile independent reports of the same event share its names,
facts and quotes, and must stay. Embeddings alone cannot tell the two apart: a rewritten
paragraph and an independent report's paragraph on the same fact are about as close. What
differs is structure. A rewrite follows its source: its paragraphs restate the source's in
the same order, and most of both documents line up. Independent reports match a few
paragraphs here and there, out of order, mostly around the quotes they share, and quotes
are taken out before anything is embedded (`cleaner.dedup.embed.unquoted`).

So, on the int8 codes of the passages' embeddings (`cleaner.dedup.embed`):

1. Candidates: passages that share a band of sign bits of random projections (SimHash:
   two unit vectors at angle a agree on a bit with probability 1 - a/pi), then checked on
   their exact cosine. Sorting the band keys keeps the cost near linear; a passage is paired
   with at most `max_bucket` earlier passages per band, so a hot bucket costs little.
2. Documents with at least `min_candidates` checked pairs are compared whole: the cosine of
   every passage of the later document with every passage of the earlier one, and the
   monotone alignment of pairs above `pair_threshold` with the greatest total excess
   similarity over it (a chain increasing in both documents' positions: a longest common
   subsequence weighted by similarity).
3. The later document is a rewrite of the earlier one when that chain holds at least
   `min_aligned` pairs and its score reaches `min_score`: the pairs' cosines above the
   threshold, scaled to 0..1 and summed, over the passages (with a vector) of the longer
   document, and its pairs stand out from the other cells of their rows and columns by
   `min_specificity` on average (`specificity`): pages written from one set of sentence
   templates line up pair for pair too, but every paragraph is about as close to every other.
   A document rewriting several earlier ones is the rewrite of the one it aligns with best
   (highest score, then most pairs, then the earliest).
4. Each passage of a rewrite on its chain restates the source passage it is aligned with;
   one between two aligned passages restates the closest source passage between theirs, if
   close enough (half of a split paragraph), and one closer still to a source passage
   anywhere restates it (a paragraph the rewrite moved). Passages of documents that are not
   rewrites are never marked, however close: a fact two independent reports share is not a
   copy.

Everything is decided on positions and visiting ranks, never on the order the passages
were given in, and every cosine is exact (`embed.cosines`): the same passages give the same
verdicts in any order.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from cleaner.config import RewriteConfig
from cleaner.dedup.embed import DIM, cosines, norms
from cleaner.dedup.sketch import KEPT, KINDS, REWRITE, Sketch
from cleaner.document import DuplicateKind

# Passages projected at once (each takes bands * rows * 4 bytes of projections, then bands *
# 32 bytes of bits while they are packed), and pairs whose cosines are computed at once (2 KB
# each): a few MB of working memory whatever the number of passages. Bands keyed at once
# for the candidates: 4 bytes a passage each.
_KEY_BATCH = 2048
_PAIR_BATCH = 2048
_BAND_GROUP = 8
# A passage keeps at most this many close pairs with earlier passages, its nearest. On text
# where every passage is close to every other (a million one-template records) each found up
# to bands * max_bucket = 512, 4 KB a passage, and the stage grew past 14 GB; a rewrite's
# passage has its source's among its nearest. Real pages average 4.8 candidates a passage.
_MAX_CLOSE = 32


@dataclass(frozen=True, slots=True)
class Match:
    """Passage `position` of document `doc` restates passage `source_position` of
    document `source` (documents by their index in the input), at cosine `similarity`."""

    doc: int
    position: int
    source: int
    source_position: int
    similarity: float


@dataclass(frozen=True, slots=True)
class Comparison:
    """Document `doc` compared with the earlier document `source`: the passages it
    restates (`matches`, in position order: the alignment, and passages fitted in between,
    see `compare`), the alignment's length, its share of the passages with a vector in each
    document (`coverage`, `source_coverage`), its mean cosine, the `score`, the
    `specificity` (for pairs whose alignment passes `min_aligned` and `min_score`) and the
    verdict."""

    doc: int
    source: int
    matches: tuple[Match, ...]
    aligned: int
    coverage: float
    source_coverage: float
    similarity: float
    score: float
    specificity: float | None  # computed for the pairs that pass the alignment's bounds only
    is_rewrite: bool


def hyperplanes(config: RewriteConfig) -> np.ndarray:
    """The random projections, as a (DIM x bands*rows) float32 matrix of +1 and -1 drawn from
    `config.seed`: with integer codes every projection is an exact integer (|sum| < 2**24),
    so a sign bit never depends on the order of summation."""
    rng = np.random.default_rng(config.seed)
    return rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(DIM, config.bands * config.rows))


class Codes:
    """The codes of the passages compared, row `i` being row `rows[i]` of table `which[i]`:
    the run's codes and the index's are compared together without being copied into one
    matrix (256 bytes a passage), and gathered a batch at a time."""

    def __init__(self, tables: Sequence[np.ndarray], which: np.ndarray, rows: np.ndarray) -> None:
        self.tables, self.which, self.rows = tuple(tables), which, rows

    @classmethod
    def of(cls, codes: np.ndarray) -> Codes:
        return cls((codes,), np.zeros(len(codes), dtype=np.int8), np.arange(len(codes), dtype=np.int64))

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, idx: np.ndarray) -> np.ndarray:
        if len(self.tables) == 1:
            return self.tables[0][self.rows[idx]]
        out = np.empty((len(idx), DIM), dtype=np.int8)
        which, rows = self.which[idx], self.rows[idx]
        for t, table in enumerate(self.tables):
            at = which == t
            out[at] = table[rows[at]]
        return out


def band_keys(codes: np.ndarray | Codes, config: RewriteConfig, bands: range | None = None) -> np.ndarray:
    """A (passages x bands) uint32 key per band (all bands, or those in `bands`): the band's
    `rows` (at most 32) sign bits, packed."""
    codes = codes if isinstance(codes, Codes) else Codes.of(codes)
    bands = bands if bands is not None else range(config.bands)
    out = np.zeros((len(codes), len(bands)), dtype=np.uint32)
    r = config.rows
    planes = hyperplanes(config)[:, bands.start * r : bands.stop * r]
    for start in range(0, len(codes), _KEY_BATCH):
        batch = codes.take(np.arange(start, min(start + _KEY_BATCH, len(codes))))
        bits = (batch.astype(np.float32) @ planes) > 0
        bits = bits.reshape(len(bits), len(bands), r)
        padded = np.zeros((len(bits), len(bands), 32), dtype=bool)
        padded[:, :, :r] = bits
        out[start : start + len(bits)] = np.packbits(padded, axis=2, bitorder="little").view("<u4")[:, :, 0]
    return out


def close_pairs(
    codes: np.ndarray | Codes, doc: np.ndarray, config: RewriteConfig, cap: int = _MAX_CLOSE
) -> np.ndarray:
    """Distinct pairs (earlier, later) of passage rows of different documents that share a
    band key and whose cosine reaches `pair_threshold`, as a (k x 2) array sorted by row.
    Rows are in visiting order (`find_rewrites` gives them so). In each band a passage is
    paired with at most `max_bucket` of the passages before it in its bucket, the nearest;
    and a later passage keeps at most `cap` pairs, those of highest cosine (then the earlier
    row first), whatever order the bands find them in.

    The bands are taken `_BAND_GROUP` at a time and only close pairs are kept, so what is
    held beside the codes is a few bytes a passage plus at most `cap` close pairs, whatever
    the number of bands; a candidate pair found again in a later band is not checked again
    (one dropped by the cap may be: it is dropped again, its cosine being lower than the
    kept ones')."""
    codes = codes if isinstance(codes, Codes) else Codes.of(codes)
    n = len(codes)
    close = np.zeros(0, dtype=np.int64)  # pairs as earlier * n + later, sorted
    close_cos = np.zeros(0)  # their cosines
    if n < 2:
        return np.zeros((0, 2), dtype=np.int64)
    doc = np.asarray(doc)
    lengths = _norms(codes)
    for first in range(0, config.bands, _BAND_GROUP):
        keys = band_keys(codes, config, range(first, min(first + _BAND_GROUP, config.bands)))
        for band in range(keys.shape[1]):
            idx = np.argsort(keys[:, band], kind="stable")  # by key, then by visiting order
            k = keys[idx, band]
            starts = np.flatnonzero(np.r_[True, k[1:] != k[:-1]])
            group_start = np.repeat(starts, np.diff(np.r_[starts, n]))
            del k, starts
            found = []
            for lag in range(1, config.max_bucket + 1):
                later = np.arange(lag, n)
                ok = later - lag >= group_start[later]
                if not ok.any():
                    break
                a, b = idx[later[ok] - lag], idx[later[ok]]
                differ = doc[a] != doc[b]
                found.append(a[differ] * n + b[differ])
            del idx, group_start
            new = _distinct(np.concatenate(found)) if found else close[:0]
            if len(close) and len(new):
                at = np.minimum(np.searchsorted(close, new), len(close) - 1)
                new = new[close[at] != new]
            if len(new):
                a, b = np.divmod(new, n)
                cos = _cosines(codes, lengths, a, b)
                near = cos >= config.pair_threshold
                # both sorted and disjoint: a stable sort merges the two runs in linear time
                merged = np.r_[close, new[near]]
                order = np.argsort(merged, kind="stable")
                close, close_cos = merged[order], np.r_[close_cos, cos[near]][order]
        close, close_cos = _nearest(close, close_cos, n, cap)
    a, b = np.divmod(close, n)
    return np.stack([a, b], axis=1)


def _nearest(close: np.ndarray, cos: np.ndarray, n: int, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (codes earlier * n + later, sorted) with at most `cap` per later row: its
    highest cosines, then its earliest rows; still sorted."""
    later = close % n
    if not len(close) or np.bincount(later).max() <= cap:
        return close, cos
    keep = _first_of_each(later, np.lexsort((close // n, -cos, later)), cap)  # nearest first
    return close[keep], cos[keep]


def likely_sources(
    keys: np.ndarray,
    doc: np.ndarray,
    run_keys: np.ndarray,
    run_doc: np.ndarray,
    config: RewriteConfig,
    run_order: np.ndarray | None = None,
) -> np.ndarray:
    """The documents (values of `doc`) of indexed passages with band keys `keys` that one of
    the run's documents may rewrite, by the test `find_rewrites` puts to a pair of documents
    (`min_candidates` passage pairs that share a band key, at most `max_bucket` run passages
    per band and passage, at `pair_threshold` or more) with each pair's cosine estimated from
    the band keys alone, so that the index's codes are read for these documents only.

    The band keys are `bands * rows` sign bits of random projections: the share of bits two
    passages differ in estimates their angle (over 1,280 bits, to 0.042 in cosine, standard
    deviation, on the real pages). Sharing a band alone says little: English passages crowd
    the buckets, and a batch of 5,420 real passages shared one with 65% of 29,525 indexed
    passages, of 596 of their 600 documents; with the estimate, 148 documents, and every
    rewrite of the labelled set still finds its source (docs/benchmarks.md).

    `run_order` is `band_order(run_keys)`, for a caller that asks about the index a part at
    a time and sorts the run's keys once."""
    if not len(keys) or not len(run_keys):
        return np.zeros(0, dtype=np.int64)
    run_order = band_order(run_keys) if run_order is None else run_order
    n_run = len(run_keys)
    found = []
    for band in range(config.bands):
        order = run_order[:, band]
        sorted_keys = run_keys[order, band]
        lo = np.searchsorted(sorted_keys, keys[:, band], "left")
        count = np.minimum(np.searchsorted(sorted_keys, keys[:, band], "right") - lo, config.max_bucket)
        total = int(count.sum())
        if not total:
            continue
        rows = np.repeat(np.arange(len(keys), dtype=np.int64), count)
        offsets = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
        found.append(rows * n_run + order[np.repeat(lo, count) + offsets])
    if not found:
        return np.zeros(0, dtype=np.int64)
    pairs = _distinct(np.concatenate(found))
    a, b = np.divmod(pairs, n_run)
    differ = np.zeros(len(pairs), dtype=np.int64)
    for start in range(0, len(pairs), _PAIR_BATCH):
        x, y = a[start : start + _PAIR_BATCH], b[start : start + _PAIR_BATCH]
        differ[start : start + len(x)] = np.bitwise_count(keys[x] ^ run_keys[y]).sum(axis=1)
    estimate = np.cos(np.pi * differ / (config.bands * config.rows))
    close = estimate >= config.pair_threshold
    doc_pairs, counts = np.unique(
        np.stack([np.asarray(doc)[a[close]], np.asarray(run_doc)[b[close]]], axis=1),
        axis=0,
        return_counts=True,
    )
    return np.unique(doc_pairs[counts >= config.min_candidates, 0])


def band_order(keys: np.ndarray) -> np.ndarray:
    """Each band's rows in the order of their keys (int32: 4 bytes a row and band)."""
    return np.argsort(keys, axis=0, kind="stable").astype(np.int32)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (numpy's own `unique` hashes first: several times slower
    on these integers)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _norms(codes: Codes) -> np.ndarray:
    out = np.empty(len(codes))
    for start in range(0, len(codes), _PAIR_BATCH):
        out[start : start + _PAIR_BATCH] = norms(
            codes.take(np.arange(start, min(start + _PAIR_BATCH, len(codes))))
        )
    return out


def _cosines(codes: Codes, lengths: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Exact cosine of rows a[i] and b[i] (see `embed.cosines`)."""
    out = np.zeros(len(a))
    for start in range(0, len(a), _PAIR_BATCH):
        x, y = a[start : start + _PAIR_BATCH], b[start : start + _PAIR_BATCH]
        dots = np.einsum("ij,ij->i", codes.take(x).astype(np.float32), codes.take(y).astype(np.float32))
        scale = lengths[x] * lengths[y]
        out[start : start + len(x)] = np.divide(dots, scale, out=np.zeros(len(x)), where=scale > 0)
    return out


def align(similarity: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """The chain of cells (i, j), increasing in both, of cells above `threshold` with the
    greatest total excess over it (sum of similarity - threshold); ties go to the chain
    found first scanning back from the end (diagonal, then up, then left), so the same
    matrix gives the same chain."""
    n, m = similarity.shape
    if n == 0 or m == 0:
        return []
    weight = np.where(similarity > threshold, similarity - threshold, 0.0)
    best = np.zeros((n + 1, m + 1))
    for i in range(n):
        take = best[i, :-1] + weight[i]
        row = np.maximum(best[i, 1:], np.where(weight[i] > 0, take, 0.0))
        best[i + 1, 1:] = np.maximum.accumulate(row)
    chain = []
    i, j = n, m
    while i > 0 and j > 0:
        w = weight[i - 1, j - 1]
        if w > 0 and best[i, j] == best[i - 1, j - 1] + w:
            chain.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i, j] == best[i - 1, j]:
            i -= 1
        else:
            j -= 1
    return chain[::-1]


def compare(
    doc: int,
    source: int,
    codes: Codes,
    rows: np.ndarray,
    source_rows: np.ndarray,
    positions: np.ndarray,
    config: RewriteConfig,
) -> Comparison:
    """Align document `doc` (its passage rows `rows`, in position order) with the earlier
    `source` (`source_rows`) and decide.

    The score is the aligned pairs' excess cosine over `pair_threshold`, scaled to 0..1 (a
    pair at cosine 1 counts 1), over the passages of the longer document: an exact copy
    scores 1, the rewrites of benchmarks/rewrites 0.24 to 0.61, independent reports of the
    same stories at most 0.11. Besides the aligned pairs, a passage off the alignment restates the
    source passage it is closest to (at `pair_threshold` or more) among those between its
    aligned neighbours' sources, bounds included (the second half of a split paragraph, a
    sentence made a paragraph of its own), or the source passage it is closest to anywhere,
    at `restate_threshold` or more (a paragraph the rewrite moved). These count for no
    score."""
    sim = cosines(codes.take(rows), codes.take(source_rows))
    chain = align(sim, config.pair_threshold)
    t = config.pair_threshold
    score = round(
        sum((float(sim[i, j]) - t) / (1.0 - t) for i, j in chain) / max(len(rows), len(source_rows)), 4
    )
    mean = round(float(np.mean([sim[i, j] for i, j in chain])), 4) if chain else 0.0
    is_rewrite = len(chain) >= config.min_aligned and score >= config.min_score
    distinct = round(specificity(sim, chain), 4) if is_rewrite else None
    is_rewrite = is_rewrite and distinct >= config.min_specificity
    cells = list(chain) + (_fitted(sim, chain, config) if is_rewrite else [])
    cells.sort()
    matches = tuple(
        Match(
            doc, int(positions[rows[i]]), source, int(positions[source_rows[j]]), round(float(sim[i, j]), 4)
        )
        for i, j in cells
    )
    return Comparison(
        doc,
        source,
        matches,
        aligned=len(chain),
        coverage=round(len(chain) / len(rows), 4),
        source_coverage=round(len(chain) / len(source_rows), 4),
        similarity=mean,
        score=score,
        specificity=distinct,
        is_rewrite=is_rewrite,
    )


def specificity(sim: np.ndarray, chain: list[tuple[int, int]]) -> float:
    """How much the aligned pairs stand out: the mean over the chain's cells (i, j) of
    sim[i, j] less the median of the other cells of row i and column j. A rewrite restates
    one source paragraph in each of its own, so its pair stands far above the rest (0.5 to
    0.7 on the labelled set); text in which every paragraph is close to every other (pages
    written from one set of sentence templates) has pairs barely above it (under 0.27)."""
    if not chain:
        return 0.0
    rows, cols = np.array(chain).T
    n, m = sim.shape
    around = np.concatenate([sim[rows, :], sim[:, cols].T], axis=1)  # k x (m + n)
    around[np.arange(len(chain)), cols] = np.nan  # the cell itself, in its row
    around[np.arange(len(chain)), m + rows] = np.nan  # and in its column
    if around.shape[1] <= 2:
        return float(np.mean(sim[rows, cols]))
    return float(np.mean(sim[rows, cols] - np.nanmedian(around, axis=1)))


def _fitted(sim: np.ndarray, chain: list[tuple[int, int]], config: RewriteConfig) -> list[tuple[int, int]]:
    """Cells for the rows off the chain that restate a source passage all the same (see
    `compare`)."""
    cells, placed = [], {i for i, _ in chain}
    for k in range(len(chain) + 1):  # the rows between aligned pairs k - 1 and k
        low_i, low_j = chain[k - 1] if k > 0 else (-1, 0)
        high_i, high_j = chain[k] if k < len(chain) else (sim.shape[0], sim.shape[1] - 1)
        for i in range(low_i + 1, high_i):
            window = sim[i, low_j : high_j + 1]
            j = int(np.argmax(window))  # the first of equal maxima
            if window[j] >= config.pair_threshold:
                cells.append((i, low_j + j))
                placed.add(i)
    for i in range(sim.shape[0]):  # a paragraph the rewrite moved
        j = int(np.argmax(sim[i]))
        if i not in placed and sim[i, j] >= config.restate_threshold:
            cells.append((i, j))
    return cells


def find_rewrites(
    doc: np.ndarray,
    positions: np.ndarray,
    codes: np.ndarray | Codes,
    rank: np.ndarray,
    config: RewriteConfig,
    sources_only: np.ndarray | None = None,
) -> tuple[list[Comparison], list[Comparison]]:
    """The rewrites among documents, from their passages' columns: `doc[i]` is passage i's
    document (an index into `rank`), `positions[i]` its position there, `codes[i]` its int8
    embedding (`embed.passage_codes`; give only passages with a vector). `rank[d]` is
    document d's place in visiting order (distinct): the earlier of two is the source.

    Returns the rewrites, one per rewritten document (the comparison with its best source:
    highest score, then most pairs, then the earliest), by document; and every comparison
    made, by document and source. Documents flagged in `sources_only` (earlier runs') are
    compared only as sources."""
    doc, positions, rank = np.asarray(doc), np.asarray(positions), np.asarray(rank)
    if len(np.unique(rank)) != len(rank):
        raise ValueError("rank must give every document a distinct place in visiting order")
    if not len(doc):
        return [], []
    # Rows in visiting order: by document rank, then position. Everything below works on
    # these ranks, so the order passages came in changes nothing.
    by_visit = np.lexsort((positions, rank[doc]))
    codes = codes if isinstance(codes, Codes) else Codes.of(codes)
    codes = Codes(codes.tables, codes.which[by_visit], codes.rows[by_visit])
    doc, positions = doc[by_visit], positions[by_visit]
    close = close_pairs(codes, doc, config)
    if len(close):
        doc_pairs, counts = np.unique(
            np.stack([doc[close[:, 0]], doc[close[:, 1]]], axis=1), axis=0, return_counts=True
        )
    else:
        doc_pairs, counts = np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
    del close
    rows_of = {d: np.arange(start, stop) for d, start, stop in _runs(doc)}
    comparisons, best = [], {}
    for source, later in _likeliest_sources(doc_pairs, counts, rank, config):
        if sources_only is not None and sources_only[later]:
            continue
        found = compare(later, source, codes, rows_of[later], rows_of[source], positions, config)
        comparisons.append(found)
        key = (found.score, found.aligned, -int(rank[source]))
        if found.is_rewrite and (later not in best or key > best[later][0]):
            best[later] = (key, found)
    comparisons.sort(key=lambda c: (c.doc, c.source))
    return [found for _, (_, found) in sorted(best.items())], comparisons


def _likeliest_sources(
    doc_pairs: np.ndarray, counts: np.ndarray, rank: np.ndarray, config: RewriteConfig
) -> list[tuple[int, int]]:
    """The (source, later) document pairs to compare whole: those with `min_candidates`
    checked pairs, and for each later document at most `max_sources` sources, those it
    shares the most candidates with, then the earliest in visiting order."""
    enough = counts >= config.min_candidates
    doc_pairs, counts = doc_pairs[enough], counts[enough]
    if not len(doc_pairs):
        return []
    source, later = doc_pairs[:, 0], doc_pairs[:, 1]
    keep = _first_of_each(later, np.lexsort((rank[source], -counts, later)), config.max_sources)
    return [(int(s), int(t)) for s, t in doc_pairs[keep].tolist()]


def _first_of_each(group: np.ndarray, order: np.ndarray, k: int) -> np.ndarray:
    """The indices of at most `k` items per value of `group`, the first in `order` (which
    sorts by `group` first), in ascending index order."""
    grouped = group[order]
    first = np.searchsorted(grouped, grouped, side="left")
    return np.sort(order[np.arange(len(order)) - first < k])


def _runs(values: np.ndarray):
    """(value, start, stop) for each run of equal values."""
    if not len(values):
        return
    starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    stops = np.r_[starts[1:], len(values)]
    for s, e in zip(starts.tolist(), stops.tolist(), strict=True):
        yield int(values[s]), s, e


@dataclass
class Prior:
    """The embedded passages of the corpus's kept documents (`cleaner.corpus.index`), which
    a run's documents may rewrite: `doc` indexes `doc_ids`, `codes` are their int8 codes."""

    doc_ids: list[str] = field(default_factory=list)
    doc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    position: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    codes: np.ndarray = field(default_factory=lambda: np.zeros((0, DIM), np.int8))


@dataclass
class RewriteStats:
    passages_compared: int = 0  # the run's embedded passages of kept documents
    earlier_passages: int = 0  # the corpus's, compared with them
    documents_compared: int = 0  # pairs of documents aligned whole
    rewrite_documents: int = 0
    rewrite_passages: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {**asdict(self), "seconds": round(self.seconds, 4)}


def mark_rewrites(sketch: Sketch, config: RewriteConfig, prior: Prior | None = None) -> RewriteStats:
    """The rewrite stage, after MinHash dedup (`visit.deduplicate_sketch`): among the
    documents it kept, those that rewrite an earlier one (in dedup's visiting order; the
    corpus's documents, `prior`, come first) leave the corpus as duplicates of kind
    `rewrite` pointing at it, and their passages that restate one of its passages get the
    status `rewrite`. Only kept passages with codes (`Sketch.embed_passages`) take part.

    A document is the rewrite of the best source among those still in the corpus: a
    rewrite of a rewrite points at the original if it aligns with it, else it stays, so
    that nothing points at text the corpus does not hold."""
    clock = time.perf_counter()
    prior = prior or Prior()
    stats = RewriteStats()
    n = sketch.n_docs
    kept_docs = sketch.kept_documents()
    doc_of = sketch.doc_of
    k = np.flatnonzero((sketch.status == KEPT) & (sketch.code_rows >= 0) & kept_docs[doc_of])
    stats.passages_compared, stats.earlier_passages = len(k), len(prior.doc)
    if not len(k):
        stats.seconds = time.perf_counter() - clock
        return stats
    # Documents numbered as dedup does: the run's, then the earlier runs' after them.
    rank = np.full(n + len(prior.doc_ids), -1, dtype=np.int64)
    order = sketch.visiting_order()
    rank[order] = np.arange(len(order))
    rank[n:] = np.arange(len(prior.doc_ids)) - len(prior.doc_ids)  # before all, in index order
    doc = np.concatenate([doc_of[k].astype(np.int64), n + prior.doc])
    involved, local = np.unique(doc, return_inverse=True)
    positions = np.concatenate([(k - sketch.starts[doc_of[k]]).astype(np.int32), prior.position])
    codes = Codes(
        (sketch.codes, prior.codes),
        np.r_[np.zeros(len(k), dtype=np.int8), np.ones(len(prior.doc), dtype=np.int8)],
        np.r_[sketch.code_rows[k].astype(np.int64), np.arange(len(prior.doc), dtype=np.int64)],
    )
    _, comparisons = find_rewrites(local, positions, codes, rank[involved], config, involved >= n)
    stats.documents_compared = len(comparisons)
    # Decide in visiting order of the later document, so that a source's own verdict is
    # known before anyone points at it.
    gone: set[int] = set()
    chosen: dict[int, Comparison] = {}
    for c in sorted(comparisons, key=lambda c: (int(rank[involved[c.doc]]), c.source)):
        later, source = int(involved[c.doc]), int(involved[c.source])
        if not c.is_rewrite or source in gone or later >= n:
            continue
        best = chosen.get(later)
        if best is None or (c.score, c.aligned, -rank[source]) > (
            best.score,
            best.aligned,
            -rank[int(involved[best.source])],
        ):
            chosen[later] = c
            gone.add(later)
    prior_at = _prior_numbers(sketch, prior)
    kind = KINDS.index(DuplicateKind.REWRITE)
    copied = sketch.doc_dup_of.copy(), sketch.dup_doc.copy()  # what MinHash dedup pointed at
    targets = {}
    for later, c in chosen.items():
        source = int(involved[c.source])
        target = source if source < n else prior_at[source - n]
        targets[later] = target
        sketch.doc_dup_of[later] = target
        sketch.doc_kind[later] = kind
        sketch.doc_similarity[later] = c.similarity
        start = int(sketch.starts[later])
        for m in c.matches:
            p = start + m.position
            sketch.status[p] = REWRITE
            sketch.dup_doc[p] = target
            sketch.dup_position[p] = m.source_position
            sketch.similarity[p] = m.similarity
        stats.rewrite_passages += len(c.matches)
    _repoint(sketch, chosen, targets, copied, rank)
    stats.rewrite_documents = len(chosen)
    stats.seconds = time.perf_counter() - clock
    return stats


def _repoint(
    sketch: Sketch,
    chosen: dict[int, Comparison],
    targets: dict[int, int],
    copied: tuple[np.ndarray, np.ndarray],
    rank: np.ndarray,
) -> None:
    """What MinHash dedup pointed at a document that now leaves the corpus as a rewrite,
    pointed at text the corpus keeps. Left as it was, a mirror of a content farm's rewrite,
    or a kept report quoting one of its paragraphs, pointed at a document no longer in
    `documents/` (`cleaner check`: damage past repair).

    - A copy of the rewrite is a rewrite of its source, as similar as the rewrite is.
    - A passage repeating one of the rewrite's passages that restates a source passage
      restates that source passage.
    - Of the passages repeating one of its other passages, the first in visiting order that
      is in a document the corpus keeps is the text's first occurrence now, kept; the others
      repeat it (none kept: each is kept in its dropped document, pointing nowhere)."""
    doc_dup_of, dup_doc = copied
    n = sketch.n_docs
    kind = KINDS.index(DuplicateKind.REWRITE)
    gone = np.zeros(n, dtype=bool)
    gone[list(chosen)] = True
    for d in np.flatnonzero((doc_dup_of[:n] >= 0) & (doc_dup_of[:n] < n)).tolist():
        later = int(doc_dup_of[d])
        if gone[later] and not gone[d]:
            sketch.doc_dup_of[d] = targets[later]
            sketch.doc_kind[d] = kind
            sketch.doc_similarity[d] = chosen[later].similarity
    doc_of = sketch.doc_of
    pointing = np.flatnonzero((dup_doc >= 0) & (dup_doc < n))
    # (not those a rewrite's own verdict has just pointed at its source)
    pointing = pointing[gone[dup_doc[pointing]] & (sketch.dup_doc[pointing] == dup_doc[pointing])]
    if not len(pointing):
        return
    kept = sketch.kept_documents()
    groups: dict[tuple[int, int], list[int]] = {}
    for p in sorted(pointing.tolist(), key=lambda p: (int(rank[doc_of[p]]), p)):
        groups.setdefault((int(dup_doc[p]), int(sketch.dup_position[p])), []).append(p)
    for (later, position), passages in sorted(groups.items()):
        match = next((m for m in chosen[later].matches if m.position == position), None)
        if match is not None:
            for p in passages:
                sketch.status[p] = REWRITE
                sketch.dup_doc[p] = targets[later]
                sketch.dup_position[p] = match.source_position
                sketch.similarity[p] = match.similarity
            continue
        heir = next((p for p in passages if kept[doc_of[p]]), None)
        for p in passages:
            if heir is None or p == heir:
                sketch.status[p] = KEPT
                sketch.dup_doc[p] = -1
                sketch.dup_position[p] = -1
                sketch.similarity[p] = np.nan
            else:
                sketch.dup_doc[p] = doc_of[heir]
                sketch.dup_position[p] = heir - int(sketch.starts[doc_of[heir]])


def _prior_numbers(sketch: Sketch, prior: Prior) -> list[int]:
    """The sketch's number (n_docs + index into `sketch.prior_ids`) of each of `prior`'s
    documents, adding those MinHash dedup did not already know."""
    known = {doc_id: i for i, doc_id in enumerate(sketch.prior_ids)}
    out = []
    for doc_id in prior.doc_ids:
        if doc_id not in known:
            known[doc_id] = len(sketch.prior_ids)
            sketch.prior_ids.append(doc_id)
        out.append(sketch.n_docs + known[doc_id])
    return out
