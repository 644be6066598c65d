"""Shingles and MinHash signatures of passages, computed in bulk with numpy.

A signature is exactly what datasketch computes for `MinHash(num_perm, seed,
scheme="affine32", hashfunc=shingle_hashfunc(config))` over the passage's shingles (a test
proves it bit for bit), so datasketch stays the reference and can read our signatures; we
only compute them for a whole batch at once instead of one passage at a time.

The hash of a word shingle is built from the hashes of its words: that is what lets the
shingle hashes of a batch come out of a few array operations. With the "fmix64-fold-fmix32"
shingle hash a word's hash comes from its bytes read 8 at a time, so the words of a batch are
hashed in bulk too, with no Python work per word; with "blake2b-fold-fmix32" each distinct
word is hashed once with BLAKE2b and cached.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cleaner.config import DedupConfig
from cleaner.text import normalize, word_spans, words

# datasketch's permutation scheme our signatures follow (its MinHash(scheme=...)).
SCHEME = "affine32"
_FNV = np.uint32(0x01000193)
_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF
# MurmurHash3's 32-bit finalizer, as datasketch's affine32 scheme applies it.
_FMIX = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35), np.uint32(16))
# MurmurHash3's 64-bit finalizer, which mixes a word's bytes into its hash.
_FMIX64 = (np.uint64(33), np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53))
# _LOW_BYTES[n] keeps the n low bytes of a little-endian 8-byte read (n = 8: all of it).
_LOW_BYTES = np.array([(1 << (8 * n)) - 1 for n in range(9)], dtype=np.uint64)
_BATCH = 4096  # passages per array pass: keeps the (shingles x 1) temporaries in cache


def _fmix32(h: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX
    h = h ^ (h >> s1)
    h = h * m1
    h = h ^ (h >> s2)
    h = h * m2
    return h ^ (h >> s3)


def _fmix32_int(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _U32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _U32
    return h ^ (h >> 16)


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's fmix64, in place: `h` is always the caller's own temporary."""
    shift, m1, m2 = _FMIX64
    h ^= h >> shift
    h *= m1
    h ^= h >> shift
    h *= m2
    h ^= h >> shift
    return h


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & _U64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _U64
    return h ^ (h >> 33)


def _fmix64_word_hash(data: bytes) -> int:
    """The "fmix64" 32-bit hash of a word (or of a character shingle) from its UTF-8 bytes.

    Start from the length; for each 8-byte little-endian chunk (the last one zero-padded),
    xor it in and mix with fmix64; keep the high 32 bits. A word of up to 8 bytes is one
    chunk, so distinct short words get distinct 64-bit values before the truncation, and a
    batch's words hash with a few numpy operations (`_hash_spans`)."""
    h = len(data)
    for i in range(0, len(data), 8):
        h = _fmix64_int(h ^ int.from_bytes(data[i : i + 8], "little"))
    return h >> 32


def _blake2b_word_hash(data: bytes) -> int:
    return int.from_bytes(hashlib.blake2b(data, digest_size=4).digest(), "little")


_WORD_HASHES = {"blake2b-fold-fmix32": _blake2b_word_hash, "fmix64-fold-fmix32": _fmix64_word_hash}


def _fold(word_hashes) -> int:
    """A word shingle's hash before mixing: its words' hashes folded FNV-style in 32 bits
    (the array form of the same fold is `_fold_windows`)."""
    x = 0
    for h in word_hashes:
        x = ((x * 0x01000193) & _U32) ^ h
    return x


def shingle_hashfunc(config: DedupConfig) -> Callable[[bytes], int]:
    """The hash of one shingle (as `shingles` returns it), for datasketch's `hashfunc`."""
    word_hash = _WORD_HASHES[config.shingle_hash]

    def word_shingle(shingle: bytes) -> int:
        return _fmix32_int(_fold(map(word_hash, shingle.split(b" "))))

    def char_shingle(shingle: bytes) -> int:
        return _fmix32_int(word_hash(shingle))

    return word_shingle if config.shingle == "word" else char_shingle


def shingles(text: str, config: DedupConfig) -> list[bytes]:
    """The set of shingles of a passage, as bytes, in first-seen order.

    Word shingles are `shingle_size` consecutive tokens; a passage shorter than that is one
    shingle of all its tokens. Character shingles run over the normalised text.
    """
    return [g.encode("utf-8") for g in dict.fromkeys(_grams(normalize(text), config))]


def _grams(norm: str, config: DedupConfig) -> list[str]:
    k = config.shingle_size
    if config.shingle == "word":
        tokens = words(norm)
        if len(tokens) <= k:
            return [" ".join(tokens)] if tokens else []
        return [" ".join(tokens[i : i + k]) for i in range(len(tokens) - k + 1)]
    if len(norm) <= k:
        return [norm] if norm else []
    return [norm[i : i + k] for i in range(len(norm) - k + 1)]


@dataclass(frozen=True)
class Signatures:
    """Signatures of a sequence of passages: row i belongs to passage i."""

    values: np.ndarray  # (passages, num_perm) uint32; an empty passage is all 2**32 - 1
    sizes: np.ndarray  # (passages,) number of distinct shingles, for containment

    def jaccard(self, i: int, j: int) -> float:
        return float(np.count_nonzero(self.values[i] == self.values[j])) / self.values.shape[1]


@dataclass
class ShingleSets:
    """The distinct shingle hashes of passages, sorted: passage i's are
    hashes[indptr[i]:indptr[i + 1]]. Their count is the passage's signature size."""

    hashes: np.ndarray  # uint32
    indptr: np.ndarray  # (passages + 1,) int64

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(self.indptr)

    @classmethod
    def concat(cls, parts: Sequence[ShingleSets]) -> ShingleSets:
        if not parts:
            return cls(np.zeros(0, np.uint32), np.zeros(1, np.int64))
        offsets = np.cumsum([0] + [len(p.hashes) for p in parts[:-1]])
        indptr = np.concatenate(
            [parts[0].indptr[:1]] + [p.indptr[1:] + o for p, o in zip(parts, offsets, strict=True)]
        )
        return cls(np.concatenate([p.hashes for p in parts]), indptr.astype(np.int64))

    def jaccards(self, a: np.ndarray, b: np.ndarray, chunk: int = 1 << 14) -> np.ndarray:
        """The exact Jaccard of sets a[i] and b[i], for every i, in bulk: both sets' hashes
        are tagged with the pair's number and sorted together; a value met twice is in both."""
        out = np.empty(len(a), dtype=np.float64)
        sizes = self.sizes
        for s in range(0, len(a), chunk):
            pa, pb = a[s : s + chunk], b[s : s + chunk]
            tagged = np.sort(np.concatenate([self._tagged(pa), self._tagged(pb)]))
            both = tagged[1:][tagged[1:] == tagged[:-1]] >> np.uint64(32)
            inter = np.bincount(both.astype(np.int64), minlength=len(pa))
            union = sizes[pa] + sizes[pb] - inter
            out[s : s + len(pa)] = np.where(union > 0, inter / np.maximum(union, 1), 1.0)
        return out

    def _tagged(self, sets: np.ndarray) -> np.ndarray:
        """(pair number << 32) | hash for every hash of every set in `sets`."""
        lengths = self.sizes[sets]
        total = int(lengths.sum())
        begins = np.repeat(self.indptr[sets] - (np.cumsum(lengths) - lengths), lengths)
        values = self.hashes[begins + np.arange(total)].astype(np.uint64)
        return (np.repeat(np.arange(len(sets), dtype=np.uint64), lengths) << np.uint64(32)) | values


class Signer:
    """Computes signatures for batches of passages with one configuration's permutations.

    BLAKE2b word hashes are cached across batches: news vocabulary repeats, so most words
    are hashed once per run.
    """

    def __init__(self, config: DedupConfig) -> None:
        self.config = config
        gen = np.random.RandomState(config.seed)  # datasketch's affine32 permutations
        self.a = gen.randint(0, 1 << 31, config.num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
        self.b = gen.randint(0, 1 << 32, config.num_perm, dtype=np.uint32)
        self._blake2b: dict[bytes, int] = {}
        # Seconds spent shingling and in MinHash so far, which the benchmarks report apart.
        self.seconds = {"shingling": 0.0, "minhash": 0.0}

    def __call__(self, texts: Sequence[str]) -> Signatures:
        values = np.empty((len(texts), self.config.num_perm), dtype=np.uint32)
        sizes = np.zeros(len(texts), dtype=np.int32)
        for start in range(0, len(texts), _BATCH):
            chunk = texts[start : start + _BATCH]
            clock = time.perf_counter()
            hashes, owner = self.shingle_hashes(chunk)
            shingled = time.perf_counter()
            values[start : start + len(chunk)], sizes[start : start + len(chunk)] = self._minhash(
                hashes, owner, len(chunk)
            )
            self.seconds["shingling"] += shingled - clock
            self.seconds["minhash"] += time.perf_counter() - shingled
        return Signatures(values, sizes)

    def shingle_hashes(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """All shingle hashes of a batch, passage by passage, and the index of the passage
        each belongs to."""
        k = self.config.shingle_size
        if self.config.shingle == "char":
            data, starts, lengths, counts = _char_windows(texts, k)
            hashes = self._span_hashes(data, starts, lengths)
        else:
            data, starts, ends, words_per_passage = word_spans(texts)
            hashes, counts = _fold_windows(
                self._span_hashes(data, starts, ends - starts), words_per_passage, k
            )
        return _fmix32(hashes), np.repeat(np.arange(len(texts)), counts)

    def shingle_sets(self, texts: Sequence[str]) -> ShingleSets:
        """The distinct shingle hashes of each passage: what its signature estimates."""
        hashes, owner = self.shingle_hashes(texts)
        # Grouped by passage already: a stable sort finishes the order fast (np.unique's
        # hashing took ten times longer).
        packed = np.sort((owner.astype(np.uint64) << np.uint64(32)) | hashes.astype(np.uint64), kind="stable")
        packed = packed[np.concatenate(([True], packed[1:] != packed[:-1]))] if len(packed) else packed
        owners = (packed >> np.uint64(32)).astype(np.int64)
        indptr = np.searchsorted(owners, np.arange(len(texts) + 1))
        return ShingleSets((packed & np.uint64(_U32)).astype(np.uint32), indptr)

    def _span_hashes(self, data: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """The word hash of every span data[start : start + length]."""
        if self.config.shingle_hash == "fmix64-fold-fmix32":
            return _hash_spans(data, starts, lengths)
        spans = [data[s : s + n] for s, n in zip(starts.tolist(), lengths.tolist(), strict=True)]
        for span in set(spans).difference(self._blake2b):
            self._blake2b[span] = _blake2b_word_hash(span)
        return np.fromiter(map(self._blake2b.__getitem__, spans), dtype=np.uint32, count=len(spans))

    def _minhash(self, hashes: np.ndarray, owner: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        values = np.full((n, self.config.num_perm), _U32, dtype=np.uint32)
        sizes = np.zeros(n, dtype=np.int32)
        if len(hashes) == 0:
            return values, sizes
        present, first = np.unique(owner, return_index=True)
        pre = _fmix32(hashes)  # datasketch premixes every input hash
        # One permutation at a time over the batch's contiguous hashes, in place: the
        # buffers stay in cache (allocating per step made this 2.7 times slower).
        buf = np.empty_like(pre)
        columns = np.empty((self.config.num_perm, len(present)), dtype=np.uint32)
        for p in range(self.config.num_perm):
            np.multiply(pre, self.a[p], out=buf)
            np.add(buf, self.b[p], out=buf)
            np.minimum.reduceat(buf, first, out=columns[p])
        values[present] = columns.T
        # Distinct shingles per passage: sort (passage, hash) packed in 64 bits and count the
        # changes. The keys arrive grouped by passage, which a stable sort exploits (4.6 ms
        # for a batch here; np.unique took 106 ms).
        packed = np.sort((owner.astype(np.uint64) << np.uint64(32)) | hashes.astype(np.uint64), kind="stable")
        new = np.empty(len(packed), dtype=bool)
        new[0] = True
        np.not_equal(packed[1:], packed[:-1], out=new[1:])
        sizes[:] = np.bincount((packed[new] >> np.uint64(32)).astype(np.int64), minlength=n)
        return values, sizes


def _hash_spans(data: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """`_fmix64_word_hash` of every span data[start : start + length] at once (data ends in 8 zero
    bytes, so each 8-byte read stays inside it)."""
    reads = np.ndarray((len(data) - 7,), dtype="<u8", buffer=data, strides=(1,))
    h = lengths.astype(np.uint64)
    h ^= reads[starts] & _LOW_BYTES[np.minimum(lengths, 8)]
    _fmix64(h)
    longer = np.flatnonzero(lengths > 8)  # the few spans with more chunks, one chunk a round
    offset = 8
    while len(longer):
        rest = lengths[longer] - offset
        h[longer] = _fmix64(h[longer] ^ (reads[starts[longer] + offset] & _LOW_BYTES[np.minimum(rest, 8)]))
        longer = longer[rest > 8]
        offset += 8
    return (h >> np.uint64(32)).astype(np.uint32)


def _fold_windows(word_hashes: np.ndarray, counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The folded hash of every word shingle of a batch and the number of shingles of each
    passage, from the hashes of its words and the number of words of each passage.

    A shingle is k consecutive words of one passage, or all the words of a shorter one: the
    fold runs at every word of the batch, then the windows that cross into the next passage
    are dropped and a short passage's one shingle is taken after as many words as it has."""
    n = len(word_hashes)
    ends = np.cumsum(counts)
    begins = ends - counts
    is_short = (counts > 0) & (counts < k)
    short, short_len = begins[is_short], counts[is_short]
    saved = np.empty(len(short), dtype=np.uint32)
    padded = np.concatenate((word_hashes, np.zeros(k - 1, dtype=np.uint32)))
    x = word_hashes.copy()
    for j in range(1, k):
        done = short_len == j
        saved[done] = x[short[done]]
        x = (x * _FNV) ^ padded[j : j + n]
    x[short] = saved
    keep = np.ones(n, dtype=bool)
    for j in range(1, k):
        last = ends - j
        keep[last[last >= begins]] = False
    keep[short] = True
    return x[keep], np.where(counts >= k, counts - k + 1, is_short)


def _char_windows(texts: Sequence[str], k: int) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray]:
    """The character shingles of a batch as byte spans of its normalised UTF-8 text (which
    ends in 8 zero bytes), and the number of shingles of each passage."""
    norms = [normalize(t) for t in texts]
    chars = np.fromiter(map(len, norms), dtype=np.int64, count=len(norms))
    joined = "".join(norms)
    if joined.isascii():
        offsets = np.arange(len(joined) + 1)
    else:  # byte offset of every character, from its code point's UTF-8 length
        cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        utf8_len = 1 + (cp >= 0x80).astype(np.int64) + (cp >= 0x800) + (cp >= 0x10000)
        offsets = np.concatenate(([0], np.cumsum(utf8_len)))
    # Shingle i of passage p starts at its character i and spans min(k, chars[p]) characters.
    counts = np.where(chars > k, chars - k + 1, chars > 0)
    before = np.cumsum(counts) - counts
    begin = np.repeat(np.cumsum(chars) - chars - before, counts) + np.arange(counts.sum())
    end = begin + np.repeat(np.minimum(chars, k), counts)
    return joined.encode("utf-8") + bytes(8), offsets[begin], offsets[end] - offsets[begin], counts


def signatures(texts: Sequence[str], config: DedupConfig) -> Signatures:
    """Signatures of passages with a fresh `Signer` (callers with many batches keep one)."""
    return Signer(config)(texts)


def jaccard(a: Sequence[bytes], b: Sequence[bytes]) -> float:
    """Exact Jaccard of two shingle sets (for verification in tests and evaluation)."""
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def containment(jaccard: float, size_a: int, size_b: int) -> float:
    """Share of set A inside set B, from their Jaccard and sizes: |A & B| = J (|A| + |B|) / (1 + J)."""
    if size_a == 0:
        return 0.0
    return min(1.0, jaccard * (size_a + size_b) / ((1.0 + jaccard) * size_a))
