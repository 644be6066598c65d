"""Which language a document is written in, as an ISO 639-1 code.

py3langid (a numpy port of langid.py, BSD): its model of 97 languages ships inside the
package, so nothing is downloaded. A page is identified on its first `_SAMPLE` characters; a
guess less likely than `_MIN_CONFIDENCE` (a table of numbers, a list of names) is no
language, `None`.

py3langid walks its byte automaton in a Python loop, one text at a time: 180 us for a
one-paragraph record, which made language the costliest step of a run (170 of 231 s of work
on a million records). `identify_all` walks the same automaton over a whole part of
documents at once, one numpy step per byte position, and scores them with one sparse
product: the same features, counts and model, so the same answer (tests/test_language.py
compares it with py3langid's own `classify` on every corpus we have).

The language also tells the cleaner whether its English phrase rules apply to a page
(`cleaner.clean.lines`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import cache

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier
from scipy.sparse import csc_matrix

_SAMPLE = 2000
_MIN_CONFIDENCE = 0.5
# Texts walked at once: up to `_GROUP`, and no more than `_CELLS` bytes once padded to the
# longest, which bounds a group's working memory (~35 MB under tracemalloc) for long pages.
_GROUP = 1024
_CELLS = 1_000_000


def warm_up() -> None:
    """Load the model in this process now (0.3 s), so that a worker does not in its first batch."""
    _model()


def cool_down() -> None:
    """Let go of the model in this process (`runner.cool_down`)."""
    _model.cache_clear()


def _identifier() -> LanguageIdentifier:
    """py3langid's model as py3langid classifies with it."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True, min_confidence=_MIN_CONFIDENCE)


class _Model:
    """The model's automaton and tables as arrays, for walking many texts at once."""

    def __init__(self, identifier: LanguageIdentifier) -> None:
        self.nextmove = np.frombuffer(identifier.tk_nextmove, dtype=np.uint32)  # 39 MB, not copied
        self.rowbase = np.asarray(identifier._rowbase, dtype=np.int32)
        self.output = np.asarray(identifier.tk_output, dtype=np.int32)
        # features x classes: float16 in the model, float32 here (57 MB) for the sparse product,
        # which reads only the rows of features a text has (exact: float16 widens without loss)
        self.ptc = np.asarray(identifier.nb_ptc, dtype=np.float32)
        self.pc = identifier.nb_pc
        self.classes = list(identifier.nb_classes)
        self.aliases = list(identifier._alias_pairs)  # (first, duplicate) columns of one label


@cache
def _model() -> _Model:
    """The model, loaded once per process: ~100 MB, py3langid's own copy let go."""
    return _Model(_identifier())


def identify(text: str) -> str | None:
    """The ISO 639-1 code of the language `text` is written in, or None when unsure."""
    return identify_all([text])[0]


def identify_all(texts: Sequence[str]) -> list[str | None]:
    """`identify` for each of `texts`, walked together."""
    codes: list[str | None] = [None] * len(texts)
    encoded, which = [], []
    for i, text in enumerate(texts):
        sample = text[:_SAMPLE]
        if sample.strip():
            encoded.append(_encode(sample))
            which.append(i)
    if not encoded:
        return codes
    model = _model()
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    order = np.argsort(lengths, kind="stable").tolist()  # texts of like length walk together
    start = 0
    while start < len(order):
        end = start + 1  # the group's longest text is its last: lengths are sorted
        while end < len(order) and end - start < _GROUP and (end + 1 - start) * lengths[order[end]] <= _CELLS:
            end += 1
        group = order[start:end]
        for k, code in zip(group, _classify([encoded[k] for k in group], model), strict=True):
            codes[which[k]] = code
        start = end
    return codes


def _encode(text: str) -> bytes:
    """The bytes py3langid classifies a text by (`LanguageIdentifier._encode`)."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def _classify(texts: list[bytes], model: _Model) -> list[str | None]:
    """Texts sorted by length, each with at least one byte: their languages."""
    n = len(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    width = int(lengths[-1])
    # position x text: the walk reads and writes one position of every text at a time, which
    # is contiguous this way round (8.0 ms a group of 1,024 one-paragraph texts, 6.8 this way)
    grid = np.zeros((width, n), dtype=np.uint8)
    for i, text in enumerate(texts):
        grid[: len(text), i] = np.frombuffer(text, dtype=np.uint8)
    features = np.full((width, n), -1, dtype=np.int32)
    state = np.zeros(n, dtype=np.int32)
    first = 0  # texts before it have ended: lengths are sorted
    for column in range(width):
        while lengths[first] <= column:
            first += 1
        state[first:] = model.nextmove[model.rowbase[state[first:]] + grid[column, first:]]
        features[column, first:] = model.output[state[first:]]
    del grid
    features = features.T.ravel()  # text by text again: the keys below come sorted by text
    # (text, feature) keys, sorted: equal keys are one feature's visits of one text. A group's
    # keys fit in 32 bits, and numpy's stable sort takes half the time of its default on them
    # (a group's 300,000 keys: 13.1 ms in 64 bits with the default, 6.4 ms so).
    found = np.flatnonzero(features >= 0)
    kind = np.int32 if n * len(model.output) < 2**31 else np.int64
    keys = (found // width).astype(kind)
    keys *= len(model.output)
    keys += features[found]
    del features, found
    if not len(keys):  # not one feature: no language (py3langid: uniform)
        return [None] * n
    keys.sort(kind="stable")
    edges = np.flatnonzero(np.diff(keys)) + 1
    counts = np.diff(np.concatenate(([0], edges, [len(keys)])))
    keys = keys[np.concatenate(([0], edges))]
    rows, found = np.divmod(keys, len(model.output))
    # Column-major: the product then reads each row of the model's table (57 MB) once per
    # group, not once per text that has the feature, and adds the same terms in the same
    # order (9.0 ms a group, conversion included, where row-major took 12.8).
    visits = csc_matrix(
        (np.log1p(counts.astype(np.float32)), (rows, found)), shape=(n, len(model.ptc)), dtype=np.float32
    )
    scores = np.asarray(visits @ model.ptc) + model.pc
    scores *= (1.0 / np.sqrt(lengths)).astype(np.float32)[:, None]  # py3langid's temperature
    scores = np.exp(scores - scores.max(axis=1, keepdims=True))
    scores /= scores.sum(axis=1, keepdims=True)
    for i, j in model.aliases:
        scores[:, i] += scores[:, j]
        scores[:, j] = 0.0
    best = scores.argmax(axis=1)
    confidence = scores[np.arange(n), best]
    featured = np.zeros(n, dtype=bool)
    featured[rows] = True  # a text without a feature is no language (py3langid: uniform)
    return [
        model.classes[b] if ok and c >= _MIN_CONFIDENCE else None
        for b, c, ok in zip(best.tolist(), confidence.tolist(), featured.tolist(), strict=True)
    ]
