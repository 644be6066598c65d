import random

import numpy as np
from datasketch import MinHash

from cleaner.config import DedupConfig
from cleaner.signatures import containment, jaccard, shingles, signatures


def test_word_shingles_are_normalised_trigrams_without_repeats():
    assert shingles("The “Port” of Hallvik, the port of Hallvik", DedupConfig()) == [
        b"the port of",
        b"port of hallvik",
        b"of hallvik the",
        b"hallvik the port",
    ]


def test_short_passage_is_one_shingle_and_empty_has_none():
    assert shingles("Strike ends", DedupConfig()) == [b"strike ends"]
    assert shingles("— …", DedupConfig()) == []


def test_char_shingles():
    assert shingles("Abc d", DedupConfig(shingle="char", shingle_size=3)) == [b"abc", b"bc ", b"c d"]


def test_signatures_are_datasketch_minhashes_with_the_configured_parameters():
    config = DedupConfig(num_perm=64, seed=7, bands=16, rows=4)
    text = "Dock workers at the port of Hallvik voted on Tuesday to end the strike."
    (sig,) = signatures([text], config)
    reference = MinHash(num_perm=64, seed=7, scheme="affine32")
    reference.update_batch(shingles(text, config))
    assert sig.seed == 7 and len(sig.hashvalues) == 64
    assert np.array_equal(sig.hashvalues, reference.hashvalues)


def test_estimated_jaccard_tracks_exact_jaccard():
    rng = random.Random(42)
    vocab = [f"w{i}" for i in range(5000)]
    config = DedupConfig()
    errors = []
    for _ in range(200):
        base = rng.sample(vocab, 60)
        edited = list(base)
        for i in rng.sample(range(60), rng.randint(0, 30)):
            edited[i] = rng.choice(vocab)
        a, b = " ".join(base), " ".join(edited)
        sa, sb = signatures([a, b], config)
        errors.append(abs(sa.jaccard(sb) - jaccard(shingles(a, config), shingles(b, config))))
    # Standard error at 128 permutations is at most 0.044; the mean error is well below it.
    assert float(np.mean(errors)) < 0.035
    assert max(errors) < 0.2


def test_containment_from_jaccard_and_sizes():
    a, b = set(range(30)), set(range(60))  # a inside b
    j = len(a & b) / len(a | b)
    assert containment(j, len(a), len(b)) == 1.0
    assert abs(containment(j, len(b), len(a)) - 0.5) < 1e-9
    assert containment(0.0, 10, 10) == 0.0 and containment(0.5, 0, 10) == 0.0
