import dataclasses
import random

import numpy as np
import pytest
from datasketch import MinHash

from cleaner.config import DedupConfig
from cleaner.dedup.signatures import (
    Signer,
    _fmix64_word_hash,
    _hash_spans,
    containment,
    jaccard,
    shingle_hashfunc,
    shingles,
    signatures,
)


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


TEXTS = [
    "Dock workers at the port of Hallvik voted on Tuesday to end the strike.",
    "“Quoted” text, with CURLY quotes — and a dash; 2026!",
    "Two words",
    "one",
    "",
    "   \t ",
    "東京で日本とEUの首脳が新たな安全保障協定に署名した。",
    "Zu\u0308rich  café\t  ﬁnance   ",
    "Don't stop: it's the workers' union's 'final' offer, rock'n'roll, 'tis o''clock ''",
    "He’s back — the ‘Hallvik’ port’s chief… said: “No.”",
    "Straße GROSSE İstanbul ΣΟΦΟΣ naïve coöperate",
    "Counter-revolutionaries' internationalisation: https://example.com/a_b?x=1&y=2 at 12:30, 4.5% up",
    "Antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis 1234567890123456789",
    "Zero\u200bwidth joins and a no\u00a0break space, ﬁve x²",
    "a\x00b nul inside",
    "서울 경제 뉴스 한국어 문장입니다 2024",
    "Emoji 😀 and rare 𠀋𠀌 characters 🇳🇴",
    "x y",
]


def _texts():
    rng = random.Random(5)
    vocab = [f"w{i}" for i in range(800)] + [
        "Straße",
        "can't",
        "東京",
        "l’été",
        "Zürich",
        "x",
        "internationalisation",
    ]
    return TEXTS + [" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 90))) for _ in range(300)]


@pytest.mark.parametrize("shingle_hash", ["blake2b-fold-fmix32", "fmix64-fold-fmix32"])
@pytest.mark.parametrize(
    "config",
    [
        DedupConfig(),
        DedupConfig(num_perm=64, seed=7, bands=16, rows=4),
        DedupConfig(shingle_size=1),
        DedupConfig(shingle_size=5),
        DedupConfig(shingle="char", shingle_size=5),
        DedupConfig(shingle="char", shingle_size=1),
    ],
    ids=["word3-128", "word3-64-seed7", "word1", "word5", "char5", "char1"],
)
def test_signatures_are_bit_identical_to_datasketch(config, shingle_hash):
    config = dataclasses.replace(config, shingle_hash=shingle_hash)
    hashfunc = shingle_hashfunc(config)
    texts = _texts()
    reference = {}
    for text in texts:
        m = MinHash(num_perm=config.num_perm, seed=config.seed, scheme="affine32", hashfunc=hashfunc)
        m.update_batch(shingles(text, config))
        reference[text] = (m.hashvalues, len(shingles(text, config)))
    # Each tokenising path: a batch holding the separator (passages normalised one by one), a
    # mixed batch (normalised in one call), an ASCII batch (bytes only), single passages.
    batches = [
        texts,
        [t for t in texts if "\x00" not in t],
        [t for t in texts if t.isascii()],
        *([t] for t in texts[: len(TEXTS)]),
    ]
    signer = Signer(config)
    for batch in batches:
        sigs = signer(batch)
        for i, text in enumerate(batch):
            assert np.array_equal(sigs.values[i], reference[text][0]), text[:40]
            assert sigs.sizes[i] == reference[text][1], text[:40]


def test_fmix64_word_hash_arrays_match_the_plain_form():
    rng = random.Random(3)
    words = [bytes(rng.randrange(1, 256) for _ in range(n)) for n in range(41) for _ in range(5)]
    data = b"".join(words) + bytes(8)
    lengths = np.array([len(w) for w in words])
    starts = np.cumsum(lengths) - lengths
    assert _hash_spans(data, starts, lengths).tolist() == [_fmix64_word_hash(w) for w in words]


def test_signer_batches_and_cache_do_not_change_results():
    config = DedupConfig()
    texts = [f"passage number {i} of the harbour story, with words" for i in range(10000)]
    whole = Signer(config)(texts)
    signer = Signer(config)
    parts = [signer(texts[i : i + 777]).values for i in range(0, len(texts), 777)]
    assert np.array_equal(whole.values, np.concatenate(parts))


def test_signer_counts_its_seconds_per_step():
    """bench_dedup reports shingling and MinHash apart from these."""
    signer = Signer(DedupConfig())
    assert signer.seconds == {"shingling": 0.0, "minhash": 0.0}
    signer([f"passage number {i} of the harbour story, with words" for i in range(5000)])
    first = dict(signer.seconds)
    assert first["shingling"] > 0 and first["minhash"] > 0
    signer(["one more passage of the harbour story, with words"])
    assert all(signer.seconds[k] > first[k] for k in first)  # they add up across calls


@pytest.mark.parametrize("shingle_hash", ["blake2b-fold-fmix32", "fmix64-fold-fmix32"])
def test_estimated_jaccard_tracks_exact_jaccard(shingle_hash):
    rng = random.Random(42)
    vocab = [f"w{i}" for i in range(5000)]
    config = DedupConfig(shingle_hash=shingle_hash)
    errors = []
    for _ in range(200):
        base = rng.sample(vocab, 60)
        edited = list(base)
        for i in rng.sample(range(60), rng.randint(0, 30)):
            edited[i] = rng.choice(vocab)
        a, b = " ".join(base), " ".join(edited)
        sigs = signatures([a, b], config)
        errors.append(abs(sigs.jaccard(0, 1) - jaccard(shingles(a, config), shingles(b, config))))
    # Standard error at 128 permutations is at most 0.044; the mean error is well below it.
    assert float(np.mean(errors)) < 0.035
    assert max(errors) < 0.2


@pytest.mark.parametrize("shingle", ["word", "char"])
def test_shingle_sets_give_the_exact_jaccard_and_the_signature_sizes(shingle):
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(400)]
    config = DedupConfig(shingle=shingle, shingle_size=3 if shingle == "word" else 5)
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 70))) for _ in range(300)]
    edited = [" ".join(w if rng.random() < 0.9 else "x" for w in t.split()) for t in texts]
    texts += edited + ["", texts[0], texts[1].upper()]  # an empty passage, a copy, the same words
    sets = Signer(config).shingle_sets(texts)
    assert np.array_equal(sets.sizes, signatures(texts, config).sizes)
    a = np.array([rng.randrange(600) for _ in range(1000)] + list(range(300)) + [0, 1, 600, 600])
    b = np.array([rng.randrange(600) for _ in range(1000)] + list(range(300, 600)) + [601, 602, 600, 0])
    expected = [
        jaccard(shingles(texts[i], config), shingles(texts[j], config)) for i, j in zip(a, b, strict=True)
    ]
    assert sum(0.0 < e < 1.0 for e in expected) > 200  # the edited copies overlap in part
    got = sets.jaccards(a, b, chunk=333)  # several chunks
    assert np.allclose(got, expected, rtol=0, atol=1e-12)
    assert got[-4:].tolist() == [1.0, 1.0, 1.0, 0.0]


def test_containment_from_jaccard_and_sizes():
    a, b = set(range(30)), set(range(60))  # a inside b
    j = len(a & b) / len(a | b)
    assert containment(j, len(a), len(b)) == 1.0
    assert abs(containment(j, len(b), len(a)) - 0.5) < 1e-9
    assert containment(0.0, 10, 10) == 0.0 and containment(0.5, 0, 10) == 0.0
