"""Shingles and MinHash signatures of passages.

Signatures are datasketch `MinHash`es built with the configured permutations, seed and
scheme, so any datasketch user can reproduce and read them. Shingles are taken from the
normalised text, so quote style, case and spacing never count as differences.
"""

from __future__ import annotations

from collections.abc import Sequence

from datasketch import LeanMinHash, MinHash

from cleaner.config import DedupConfig
from cleaner.text import normalize, words


def shingles(text: str, config: DedupConfig) -> list[bytes]:
    """The set of shingles of a passage, as bytes, in first-seen order.

    Word shingles are `shingle_size` consecutive tokens; a passage shorter than that is one
    shingle of all its tokens. Character shingles run over the normalised text.
    """
    norm = normalize(text)
    k = config.shingle_size
    if config.shingle == "word":
        tokens = words(norm)
        if not tokens:
            return []
        grams = (
            [" ".join(tokens)]
            if len(tokens) <= k
            else [" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)]
        )
    else:
        grams = [norm] if len(norm) <= k else [norm[i : i + k] for i in range(len(norm) - k + 1)]
    return [g.encode("utf-8") for g in dict.fromkeys(grams)]


def signatures(texts: Sequence[str], config: DedupConfig) -> list[LeanMinHash]:
    """One MinHash per text, computed with shared permutations."""
    return signatures_of_sets([shingles(t, config) for t in texts], config)


def signatures_of_sets(sets: Sequence[Sequence[bytes]], config: DedupConfig) -> list[LeanMinHash]:
    """One MinHash per shingle set, for callers that also need the sets' sizes."""
    minhashes = MinHash.bulk(sets, num_perm=config.num_perm, seed=config.seed, scheme=config.hash_scheme)
    return [LeanMinHash(m) for m in minhashes]


def containment(jaccard: float, size_a: int, size_b: int) -> float:
    """Share of set A inside set B, from their Jaccard and sizes: |A & B| = J (|A| + |B|) / (1 + J)."""
    if size_a == 0:
        return 0.0
    return min(1.0, jaccard * (size_a + size_b) / ((1.0 + jaccard) * size_a))


def jaccard(a: Sequence[bytes], b: Sequence[bytes]) -> float:
    """Exact Jaccard of two shingle sets (for verification in tests and evaluation)."""
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
