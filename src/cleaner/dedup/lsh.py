"""Candidate pairs by locality-sensitive hashing over the signatures' bands.

Each band of `rows` signature values is hashed to a 64-bit key; passages that share a key in
any band are candidates, checked afterwards (`visit`). Sorting keys band by band keeps the cost
near linear, and a hot bucket (thousands of near copies) costs a few neighbours per row, not
every pair. On a large run the bands are cut into groups, found on the flow's threads
(`band_candidates`) or, on a Dask cluster, each a task on a worker that reads its group's
columns from the signatures' files, a band at a time (`spread_lsh`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from cleaner.config import DedupConfig
from cleaner.dedup.store import SignatureStore

_BAND_MIX = np.uint64(0x100000001B3)
# Earlier rows of the same LSH band group a row is compared with, besides the group's first.
_RUN_NEIGHBOURS = 8


def band_keys(
    values: np.ndarray | SignatureStore, config: DedupConfig, band: int | None = None
) -> np.ndarray:
    """One 64-bit key per band (or for one band): the band's `rows` hash values folded
    together. Two passages share a band when their keys are equal (a fold collision only
    adds a candidate, which verification then rejects). A band's columns are read at a time."""
    store = SignatureStore.of(values)
    bands = range(config.bands) if band is None else [band]
    keys = np.zeros((len(store), len(bands)), dtype=np.uint64)
    for j, b in enumerate(bands):
        columns = store.columns(b * config.rows, (b + 1) * config.rows)
        for r in range(config.rows):
            keys[:, j] = (keys[:, j] * _BAND_MIX) ^ columns[:, r].astype(np.uint64)
    return keys


def band_candidates(
    values: np.ndarray | SignatureStore,
    config: DedupConfig,
    visit: np.ndarray | None = None,
    cap: int = _RUN_NEIGHBOURS,
    groups: int = 1,
    threads: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """For every visited row, the earlier visited rows it shares an LSH band with, as CSR
    arrays (indptr, indices) over visiting positions: the j-th visited row's candidates are
    the rows visited at indices[indptr[j]:indptr[j + 1]], ascending.

    `visit` lists the signature rows in visiting order (default: all, in row order). The
    work is `band_pairs` over all bands, cut into `groups` of bands found on up to
    `threads` threads (numpy sorts without the interpreter's lock: two threads took 2.7 s
    for a million rows, one 5.4 s) and joined by `candidates`; a cluster spreads the groups
    over its workers instead (`spread_lsh`). The candidates are the same for any cut."""
    if visit is None:
        visit = np.arange(len(values))
    cut = band_groups(config, groups)
    if len(cut) == 1 or threads <= 1:
        pairs = [band_pairs(values, config, visit, bands, cap) for bands in cut]
    else:
        with ThreadPoolExecutor(min(threads, len(cut)), thread_name_prefix="lsh") as pool:
            pairs = list(pool.map(lambda bands: band_pairs(values, config, visit, bands, cap), cut))
    return candidates(pairs, len(visit))


def band_groups(config: DedupConfig, parts: int) -> list[range]:
    """The bands cut into at most `parts` groups of consecutive bands, for separate workers."""
    parts = max(1, min(parts, config.bands))
    edges = np.linspace(0, config.bands, parts + 1).round().astype(int)
    return [range(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]


def band_pairs(
    values: np.ndarray | SignatureStore,
    config: DedupConfig,
    visit: np.ndarray,
    bands: range,
    cap: int = _RUN_NEIGHBOURS,
) -> np.ndarray:
    """The candidate pairs the given bands find, as sorted distinct codes later * n + earlier
    over visiting positions (n = len(visit)).

    In each band a stable sort groups rows with equal keys in visiting order; a row's
    candidates in the band are the first row of its group (normally the first occurrence
    the others repeat) and the `cap` rows just before it. Bounding the group keeps a passage
    copied ten thousand times from costing a hundred million pairs. Keys are made one band
    at a time: all of them at once would take 8 bytes per band per passage (336 MB for a
    million)."""
    n = len(visit)
    pairs = np.zeros(0, dtype=np.int64)
    pending: list[np.ndarray] = []
    held = 0
    positions = np.arange(n)
    for band in bands:
        keys = band_keys(values, config, band)[visit, 0]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        starts = np.ones(n, dtype=bool)
        starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
        if starts.all():
            continue
        head = np.maximum.accumulate(np.where(starts, positions, 0))
        member = ~starts
        pending.append(order[member].astype(np.int64) * n + order[head[member]])
        for back in range(1, cap + 1):
            inside = positions[back:][positions[back:] - back > head[back:]]  # not the head again
            pending.append(order[inside].astype(np.int64) * n + order[inside - back])
        held += sum(len(p) for p in pending[-(cap + 1) :])
        # A copy shares most bands with its source, so pairs recur band after band: merging
        # them whenever they outnumber the rows keeps memory near the distinct pairs.
        if held > n:
            pairs, pending, held = _distinct(np.concatenate([pairs, *pending])), [], 0
    if pending:
        pairs = _distinct(np.concatenate([pairs, *pending]))
    return pairs


def _distinct(codes: np.ndarray) -> np.ndarray:
    """The sorted distinct values of `codes`. Sorting, not `np.unique`: numpy 2.3+ finds them
    with a hash table, and the pair codes of a hot band bucket (a passage copied ten thousand
    times) collide in it, so time grew with the square of the copies (40,000 near copies of
    one passage: 97 s of LSH, 23 s of it in one call); a sort is n log n whatever the values."""
    codes = np.sort(codes)
    if len(codes) < 2:
        return codes
    keep = np.empty(len(codes), dtype=bool)
    keep[0] = True
    np.not_equal(codes[1:], codes[:-1], out=keep[1:])
    return codes[keep]


def candidates(pair_groups: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Join the pairs of groups of bands (`band_pairs`) into CSR candidate lists over the n
    visiting positions (see `band_candidates`)."""
    pairs = _distinct(np.concatenate(pair_groups)) if len(pair_groups) > 1 else pair_groups[0]
    if not len(pairs):
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    later, earlier = pairs // n, pairs % n
    indptr = np.searchsorted(later, np.arange(n + 1))
    return indptr, earlier


def spread_lsh(
    submit: Callable[[SignatureStore, np.ndarray, range], Any],
    parts: int,
    folder: Path,
    values: np.ndarray | SignatureStore,
    config: DedupConfig,
    visit: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """LSH candidates found by workers (an `Lsh`): the bands are cut into `parts` groups,
    and `submit(store, visit, bands)` runs `band_group_pairs` on a worker and returns a
    future of it (a Prefect or a `concurrent.futures` one); the pairs are joined here. The
    store is the signatures' files, signatures held in memory (an earlier run's) written to
    `folder` first: sent inside the tasks, every group's copy was held at once until its
    task ended (+346 MB at 30,000 pages, +183 MB at a million passages)."""
    store = SignatureStore.of(values).on_disk(folder)
    futures = [submit(store, visit, bands) for bands in band_groups(config, parts)]
    pairs = [f.result() for f in futures]
    shutil.rmtree(folder, ignore_errors=True)
    return candidates(pairs, len(visit))


def band_group_pairs(
    values: SignatureStore, config: DedupConfig, visit: np.ndarray, bands: range
) -> np.ndarray:
    """A worker's part of `spread_lsh`: the candidate pairs of a group of bands."""
    return band_pairs(values, config, visit, bands)
