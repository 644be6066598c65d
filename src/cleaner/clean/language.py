"""Which language a document is written in, as an ISO 639-1 code.

py3langid (a numpy port of langid.py, BSD): its model of 97 languages ships inside the
package, so nothing is downloaded. A page is identified on its first `_SAMPLE` characters; a
guess less likely than `_MIN_CONFIDENCE` (a table of numbers, a list of names) is no
language, `None`, and so is the model's "zxx" (no linguistic content). A code is ISO 639-1
where the language has one, else the model's ISO 639-3 ("ary", "arz", "crh", ...).

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
        # py3langid's "zxx" (ISO 639-2: no linguistic content) answers no language: None
        self.classes = [None if c == "zxx" else c for c in identifier.nb_classes]
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
    # The states the walk passes through, position by text (row 0: the start state, where a
    # text that has ended stays; its output is no feature). A feature per state is looked up
    # once at the end, not at every position.
    states = np.zeros((width + 1, n), dtype=np.int32)
    nextmove, rowbase = model.nextmove, model.rowbase
    first = 0  # texts before it have ended: lengths are sorted
    for column in range(width):
        while lengths[first] <= column:
            first += 1
        states[column + 1, first:] = nextmove[rowbase[states[column, first:]] + grid[column, first:]]
    del grid
    features = model.output[states[1:].T]  # text by text: each text's features in its order
    del states
    found = np.flatnonzero(features >= 0)
    if not len(found):  # not one feature: no language (py3langid: uniform)
        return [None] * n
    text = (found // width).astype(np.int32)
    feature = features.ravel()[found]
    del features, found
    # A text's visits of a feature are summed as the sparse matrix is built, column by
    # column, with each column's texts already in order, so nothing is sorted (a sort of the
    # (text, feature) pairs took 9 of a one-paragraph record's 31 us). Column-major, the
    # product reads each row of the model's table (57 MB) once per group, not once per text
    # that has the feature, and adds the same terms in the same order.
    visits = csc_matrix(
        (np.ones(len(text), dtype=np.float32), (text, feature)), shape=(n, len(model.ptc)), dtype=np.float32
    )
    np.log1p(visits.data, out=visits.data)
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
    featured[text] = True  # a text without a feature is no language (py3langid: uniform)
    return [
        model.classes[b] if ok and c >= _MIN_CONFIDENCE else None
        for b, c, ok in zip(best.tolist(), confidence.tolist(), featured.tolist(), strict=True)
    ]
